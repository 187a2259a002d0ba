import { describe, expect, it } from 'vitest';
import { downlinkQueueName, downlinkReceiveAddress, uplinkSendAddress, vhostHostname } from './rabbitmq-names.ts';

describe('RabbitMQ addresses', () => {
  it('sends to the uplink exchange under the endpoint id and reads the pre-declared downlink queue', () => {
    expect(uplinkSendAddress('clinic-a')).toBe('/exchange/rts.uplink/clinic-a');
    expect(downlinkReceiveAddress('clinic-a')).toBe('/amq/queue/rts.downlink.clinic-a');
    expect(downlinkQueueName('ws-1')).toBe('rts.downlink.ws-1');
    expect(vhostHostname('rts')).toBe('vhost:rts');
  });

  it('refuses endpoint ids that would change the address', () => {
    expect(() => uplinkSendAddress('clinic-a/other')).toThrow();
    expect(() => downlinkReceiveAddress('*')).toThrow();
  });
});
