import { describe, expect, it } from 'vitest';
import { artemisAdapter, brokerAdapterFor, rabbitmq3Adapter, type RetryableDelivery } from './broker-adapter.ts';

function recordingDelivery(): RetryableDelivery & { calls: unknown[] } {
  const calls: unknown[] = [];
  return { calls, release: (params) => void calls.push(params) };
}

describe('broker adapters', () => {
  it("take the sender RabbitMQ vouches for from user_id, and Artemis's from the uplink address it was diverted from", () => {
    expect(rabbitmq3Adapter.verifiedSender({ user_id: Buffer.from('clinic-a') })).toBe('clinic-a');
    expect(rabbitmq3Adapter.verifiedSender({})).toBeUndefined();
    // On Artemis user_id is whatever the sender wrote.
    const forged = {
      user_id: Buffer.from('clinic-b'),
      message_annotations: { 'x-opt-ORIG-ADDRESS': 'rts.uplink.clinic-a' },
    };
    expect(artemisAdapter.verifiedSender(forged)).toBe('clinic-a');
    expect(artemisAdapter.verifiedSender({ user_id: Buffer.from('clinic-a') })).toBeUndefined();
  });

  it('are chosen by the configured broker kind, RabbitMQ when none is named', () => {
    expect(brokerAdapterFor('artemis')).toBe(artemisAdapter);
    expect(brokerAdapterFor('rabbitmq')).toBe(rabbitmq3Adapter);
    expect(brokerAdapterFor(undefined)).toBe(rabbitmq3Adapter);
  });

  it('retry with the outcome each broker counts towards its delivery limit', () => {
    const rabbit = recordingDelivery();
    rabbitmq3Adapter.retry(rabbit);
    expect(rabbit.calls).toEqual([undefined]); // released; 3.x ends the session on modified
    const artemis = recordingDelivery();
    artemisAdapter.retry(artemis);
    expect(artemis.calls).toEqual([{ delivery_failed: true }]); // modified; released is not counted
  });

  it('name the same logical places on both brokers', () => {
    expect(artemisAdapter.uplinkTarget('clinic-a')).toBe('rts.uplink.clinic-a');
    expect(artemisAdapter.uplinkSource()).toBe('rts.uplink');
    expect(artemisAdapter.downlinkTarget('clinic-a')).toBe(artemisAdapter.downlinkSource('clinic-a'));
    expect(rabbitmq3Adapter.uplinkTarget('clinic-a')).toBe('/exchange/rts.uplink/clinic-a');
    expect(rabbitmq3Adapter.downlinkSource('clinic-a')).toBe('/amq/queue/rts.downlink.clinic-a');
  });
});
