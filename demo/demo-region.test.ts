import { describe, expect, it } from 'vitest';
import { demoHospitals, generateExperts } from './demo-region.ts';

const HAN = /\p{Script=Han}/u;
const BENGALI = /\p{Script=Bengali}/u;
const NORDIC = /[æøåÆØÅ]/u;

describe("the demo region's generated directory", () => {
  it('is the same at every start, and mixes Chinese, Bengali and Norwegian names', () => {
    const experts = generateExperts(90);
    expect(generateExperts(90)).toEqual(experts);
    const names = experts.map((e) => `${e.given} ${e.family}`);
    const chinese = experts.filter((e) => HAN.test(e.family + e.given));
    const bengali = experts.filter((e) => BENGALI.test(e.family + e.given));
    expect(chinese.length).toBeGreaterThanOrEqual(9);
    expect(bengali.length).toBeGreaterThanOrEqual(5);
    expect(names.filter((n) => NORDIC.test(n)).length).toBeGreaterThanOrEqual(5);
    // Their experts work at the hospitals of their script, and have Latin directory ids all the same.
    expect(chinese.every((e) => /\.(beijing|hangzhou|zhengzhou)$/u.test(e.organizationId))).toBe(true);
    expect(bengali.every((e) => /\.(dhaka|chattogram)$/u.test(e.organizationId) && e.languages[0] === 'bn')).toBe(true);
    expect(new Set(experts.map((e) => e.id)).size).toBe(90);
    expect(experts.every((e) => /^demo-(north|south|east)\.dr-[a-z0-9]+-[a-z0-9-]+$/u.test(e.id))).toBe(true);
  });

  it('publishes hospitals named in Chinese, Bengali and Norwegian', () => {
    const hospitals = ['demo-north', 'demo-south', 'demo-east'].flatMap((c) => demoHospitals(c));
    const names = hospitals.map((h) => (h as { name?: string }).name);
    expect(names).toEqual(
      expect.arrayContaining(['郑州市第一人民医院', 'ঢাকা মেডিকেল কলেজ হাসপাতাল', 'Åsvik Sykehus']),
    );
    expect(new Set(hospitals.map((h) => h.id)).size).toBe(hospitals.length);
  });
});
