import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { artemisBrokerXml, artemisPasswordHash, buildArtemisConfiguration } from './artemis-configuration.ts';

const options = {
  endpoints: [
    { name: 'clinic-a', password: 'a' },
    { name: 'clinic-b', password: 'b' },
  ],
  hub: { name: 'rts-hub', password: 'h' },
  admin: { name: 'rts-admin', password: 'x' },
  deliveryLimit: 7,
};

/** The roles of each permission type in the security setting whose match is exactly `match`. */
function permissionsOf(coreXml: string, match: string): Record<string, string[]> {
  const setting = new RegExp(
    `<security-setting match="${match.replace(/[.#]/g, '\\$&')}">([\\s\\S]*?)</security-setting>`,
  ).exec(coreXml);
  if (!setting) throw new Error(`no security setting for ${match}`);
  return Object.fromEntries(
    [...setting[1]!.matchAll(/<permission type="(\w+)" roles="([^"]*)"\/>/g)].map(([, type, roles]) => [
      type,
      roles!.split(','),
    ]),
  );
}

describe('Artemis configuration of the RTS topology', () => {
  it("hashes passwords with Artemis's default codec (PBKDF2-HMAC-SHA1, 1024 rounds), which its login module reads", () => {
    const salt = Buffer.alloc(32, 7);
    const hash = artemisPasswordHash('s3cret', salt);
    expect(hash).toBe(
      `ENC(1024:${salt.toString('hex').toUpperCase()}:${pbkdf2Sync('s3cret', salt, 1024, 64, 'sha1').toString('hex').toUpperCase()})`,
    );
    expect(artemisPasswordHash('s3cret')).not.toBe(artemisPasswordHash('s3cret')); // a fresh salt each time
  });

  it('lets an endpoint send only to its own uplink address and read only its own downlink; the hub reads the uplink', () => {
    const { coreXml } = buildArtemisConfiguration(options);
    expect(permissionsOf(coreXml, 'rts.uplink.clinic-a')).toEqual({
      send: ['rts-endpoint-clinic-a', 'rts-admin'],
      consume: ['rts-admin'],
      browse: ['rts-admin'],
      manage: ['rts-admin'],
    });
    expect(permissionsOf(coreXml, 'rts.downlink.clinic-a')).toMatchObject({
      send: ['rts-hub', 'rts-admin'],
      consume: ['rts-endpoint-clinic-a', 'rts-admin'],
    });
    expect(permissionsOf(coreXml, 'rts.uplink')).toMatchObject({
      send: ['rts-admin'],
      consume: ['rts-hub', 'rts-admin'],
    });
    // Nothing else is anyone's but the administrator's; no address or queue is made on demand.
    expect(Object.values(permissionsOf(coreXml, '#')).flat()).toEqual(new Array(10).fill('rts-admin'));
    expect(coreXml).toContain('<auto-create-addresses>false</auto-create-addresses>');
    expect(coreXml).toContain('<auto-create-queues>false</auto-create-queues>');
  });

  it('diverts each uplink address, exclusively, into the one uplink queue', () => {
    const { coreXml } = buildArtemisConfiguration(options);
    for (const id of ['clinic-a', 'clinic-b']) {
      expect(coreXml).toContain(`<address name="rts.uplink.${id}"><multicast/></address>`);
      expect(coreXml).toMatch(
        new RegExp(
          `<divert name="rts\\.uplink\\.${id}">\\s*<address>rts\\.uplink\\.${id}</address>\\s*<forwarding-address>rts\\.uplink</forwarding-address>[\\s\\S]*?<exclusive>true</exclusive>`,
        ),
      );
    }
  });

  it('dead-letters at the delivery limit, and expired messages too; the dead-letter queue itself never drops', () => {
    const { coreXml } = buildArtemisConfiguration(options);
    expect(coreXml).toMatch(
      /<address-setting match="rts\.#">\s*<dead-letter-address>rts\.deadletter<\/dead-letter-address>\s*<max-delivery-attempts>7<\/max-delivery-attempts>\s*<expiry-address>rts\.deadletter<\/expiry-address>/,
    );
    expect(coreXml).toMatch(/<address-setting match="rts\.deadletter">[\s\S]*?<max-delivery-attempts>-1</);
  });

  it('writes users with hashed passwords only, and one role per endpoint', () => {
    const { usersProperties, rolesProperties } = buildArtemisConfiguration(options);
    expect(usersProperties).toMatch(/^rts-admin = ENC\(1024:[0-9A-F]{64}:[0-9A-F]{128}\)\nrts-hub = ENC\(/);
    expect(usersProperties).not.toMatch(/= (a|b|h|x)$/m);
    expect(rolesProperties).toBe(
      'rts-admin = rts-admin\nrts-hub = rts-hub\nrts-endpoint-clinic-a = clinic-a\nrts-endpoint-clinic-b = clinic-b\n',
    );
  });

  it('refuses names that would change the files or widen a match', () => {
    expect(() => buildArtemisConfiguration({ ...options, endpoints: [{ name: 'clinic.#', password: 'p' }] })).toThrow();
    expect(() => buildArtemisConfiguration({ ...options, hub: { name: 'hub = admin', password: 'p' } })).toThrow();
    expect(() => artemisBrokerXml({ name: 'x"/><evil', acceptors: [] }, buildArtemisConfiguration(options))).toThrow();
  });

  it('escapes an acceptor URL for XML', () => {
    const xml = artemisBrokerXml(
      { name: 'rts', acceptors: ['tcp://127.0.0.1:5672?a=1&b=2'] },
      buildArtemisConfiguration(options),
    );
    expect(xml).toContain('<acceptor name="amqp">tcp://127.0.0.1:5672?a=1&amp;b=2</acceptor>');
  });

  it('makes each half of a pair replicate over its own loopback link, the primary as primary and the backup as backup', () => {
    const pair = (role: 'primary' | 'backup', corePort: number, peerCorePort: number) =>
      artemisBrokerXml(
        {
          name: `rts-${role}`,
          acceptors: ['tcp://127.0.0.1:5672?protocols=AMQP'],
          pair: { role, corePort, peerCorePort, clusterUser: 'rts-cluster', clusterPassword: '-p4ss<&' },
        },
        buildArtemisConfiguration(options),
      );
    const primary = pair('primary', 61001, 61002);
    expect(primary).toContain('<acceptor name="replication">tcp://127.0.0.1:61001?protocols=CORE</acceptor>');
    expect(primary).toContain('<connector name="peer">tcp://127.0.0.1:61002</connector>');
    expect(primary).toContain('<ha-policy><replication><primary/></replication></ha-policy>');
    // A generated password may start with '-' and hold any character: it is escaped, not refused.
    expect(primary).toContain('<cluster-password>-p4ss&lt;&amp;</cluster-password>');
    expect(pair('backup', 61002, 61001)).toContain('<ha-policy><replication><backup/></replication></ha-policy>');
    const single = artemisBrokerXml({ name: 'rts', acceptors: [] }, buildArtemisConfiguration(options));
    expect(single).not.toMatch(/ha-policy|cluster-connection|protocols=CORE/);
  });

  it('makes a live group cluster with every other group, moving messages to where they are consumed, with no HA policy', () => {
    const group = artemisBrokerXml(
      {
        name: 'rts-group-1',
        acceptors: ['tcp://127.0.0.1:5672?protocols=AMQP'],
        group: { corePort: 61001, peerCorePorts: [61002, 61003], clusterUser: 'rts-cluster', clusterPassword: 'pw' },
      },
      buildArtemisConfiguration(options),
    );
    expect(group).toContain('<acceptor name="cluster">tcp://127.0.0.1:61001?protocols=CORE</acceptor>');
    expect(group).toContain('<connector name="peer-2">tcp://127.0.0.1:61003</connector>');
    expect(group).toContain('<message-load-balancing>ON_DEMAND</message-load-balancing>');
    expect(group).toContain(
      '<static-connectors><connector-ref>peer-1</connector-ref><connector-ref>peer-2</connector-ref>',
    );
    expect(group).not.toContain('ha-policy');
    // A queue without a consumer of its own hands its messages on at once.
    expect(buildArtemisConfiguration(options).coreXml).toContain('<redistribution-delay>0</redistribution-delay>');
  });
});
