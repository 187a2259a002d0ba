import { describe, expect, it } from 'vitest';
import { artemisDownlinkAddress, artemisUplinkAddress, artemisVerifiedSender } from './artemis-names.ts';

describe('Artemis addresses', () => {
  it("sends to the endpoint's own uplink address and reads the downlink queue of the same name", () => {
    expect(artemisUplinkAddress('clinic-a')).toBe('rts.uplink.clinic-a');
    expect(artemisDownlinkAddress('clinic-a')).toBe('rts.downlink.clinic-a');
  });

  it('refuses endpoint ids that would widen a security match (# and * are Artemis wildcards)', () => {
    expect(() => artemisUplinkAddress('#')).toThrow();
    expect(() => artemisDownlinkAddress('clinic.a')).toThrow();
  });

  it('takes the sender from the address the divert recorded, and nothing else', () => {
    expect(artemisVerifiedSender({ 'x-opt-ORIG-ADDRESS': 'rts.uplink.clinic-a' })).toBe('clinic-a');
    expect(artemisVerifiedSender({ 'x-opt-ORIG-ADDRESS': 'rts.downlink.clinic-a' })).toBeUndefined();
    expect(artemisVerifiedSender({ 'x-opt-ORIG-ADDRESS': 'rts.uplink.Clinic A' })).toBeUndefined();
    expect(artemisVerifiedSender({ 'x-opt-ORIG-ADDRESS': 42 })).toBeUndefined();
    expect(artemisVerifiedSender({})).toBeUndefined();
    expect(artemisVerifiedSender(undefined)).toBeUndefined();
  });
});
