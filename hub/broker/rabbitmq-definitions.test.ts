import { describe, expect, it } from 'vitest';
import { buildRabbitmqDefinitions, endpointPermissions, rabbitPasswordHash } from './rabbitmq-definitions.ts';

describe('RabbitMQ definitions', () => {
  it('hashes passwords the way RabbitMQ does (vector from the RabbitMQ password docs)', () => {
    expect(rabbitPasswordHash('test12', Buffer.from('908DC60A', 'hex'))).toBe(
      'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR',
    );
  });

  it("grants an endpoint its own downlink and routing key, and nothing of another endpoint's", () => {
    const { permission, topicPermission } = endpointPermissions('clinic-a');
    const read = new RegExp(permission.read);
    expect(read.test('rts.downlink.clinic-a')).toBe(true);
    expect(read.test('rts.downlink.clinic-ab')).toBe(false);
    expect(read.test('rts.downlinkXclinic-a')).toBe(false);
    expect(read.test('rts.uplink')).toBe(false);
    expect(new RegExp(permission.write).test('rts.uplink')).toBe(true);
    expect(new RegExp(permission.write).test('rts.downlink')).toBe(false);
    expect(new RegExp(permission.configure).test('anything')).toBe(false);
    expect(new RegExp(topicPermission.write).test('clinic-a')).toBe(true);
    expect(new RegExp(topicPermission.write).test('clinic-b')).toBe(false);
  });

  it('declares quorum queues with a delivery limit and dead-lettering, and no guest user', () => {
    const defs = buildRabbitmqDefinitions({
      endpoints: [{ name: 'clinic-a', password: 'a' }],
      hub: { name: 'rts-hub', password: 'h' },
      admin: { name: 'rts-admin', password: 'x' },
      deliveryLimit: 7,
    });
    const downlink = defs.queues.find((q) => q.name === 'rts.downlink.clinic-a');
    expect(downlink?.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 7,
      'x-dead-letter-exchange': 'rts.dlx',
    });
    expect(defs.users.map((u) => u.name).sort()).toEqual(['clinic-a', 'rts-admin', 'rts-hub']);
    expect(defs.users.every((u) => !('password' in u))).toBe(true);
    expect(defs.bindings).toContainEqual(
      expect.objectContaining({
        source: 'rts.downlink',
        destination: 'rts.downlink.clinic-a',
        routing_key: 'clinic-a',
      }),
    );
  });

  it('refuses an endpoint id that is unsafe in a permission regex', () => {
    expect(() =>
      buildRabbitmqDefinitions({
        endpoints: [{ name: '.*', password: 'a' }],
        hub: { name: 'h', password: 'h' },
        admin: { name: 'a', password: 'a' },
      }),
    ).toThrow(/invalid endpoint id/);
  });
});
