import { describe, expect, it } from 'vitest';
import { caliper, CSS_PX_PER_MM, gridLines, isLargeLine, paperScale, stripRange, stripSize } from './ecg-grid.ts';

describe('ECG paper', () => {
  it('draws 25 mm per second and 10 mm per millivolt at true size, twice that at zoom 2', () => {
    const scale = paperScale(1);
    // One large square (0.2 s, 0.5 mV) is 5 mm both ways.
    expect(0.2 * scale.pxPerSecond).toBeCloseTo(5 * CSS_PX_PER_MM, 9);
    expect(0.5 * scale.pxPerMillivolt).toBeCloseTo(5 * CSS_PX_PER_MM, 9);
    expect(scale.pxPerSecond).toBeCloseTo(94.488, 3);
    expect(paperScale(2).pxPerMillivolt).toBeCloseTo(2 * scale.pxPerMillivolt, 9);
  });

  it('puts small lines every 0.04 s and every fifth a large one, without float drift', () => {
    const lines = gridLines(0, 0.4, 0.04);
    expect(lines).toHaveLength(11);
    expect(lines[5]).toBe(0.2);
    expect(lines.filter((t) => isLargeLine(t, 0.04))).toEqual([0, 0.2, 0.4]);
    expect(gridLines(-0.55, 1.5, 0.1).filter((v) => isLargeLine(v, 0.1))).toEqual([-0.5, 0, 0.5, 1, 1.5]);
    expect(gridLines(-0.4, 10, 0.04)).toHaveLength(261);
  });

  it('shows each strip in whole large squares, with room for the 1 mV calibration pulse', () => {
    expect(stripRange([0.1, 0.8, -0.2, null])).toEqual([-0.5, 1.5]);
    expect(stripRange([-1.26, 2.1])).toEqual([-1.5, 2.5]);
    expect(stripRange([])).toEqual([-0.5, 1.5]);
    // 4 s of recording after 0.4 s of calibration at 25 mm/s: 110 mm; 2 mV at 10 mm/mV: 20 mm.
    const size = stripSize(4, [-0.5, 1.5], paperScale(1));
    expect(size.width).toBe(Math.round(110 * CSS_PX_PER_MM));
    expect(size.height).toBe(Math.round(20 * CSS_PX_PER_MM));
  });

  it('measures an interval, an amplitude and the rate the interval implies', () => {
    // Two R peaks 577 ms apart (104/min), the second 0.3 mV lower.
    const measured = caliper({ seconds: 0.185, millivolts: 1.15 }, { seconds: 0.762, millivolts: 0.85 });
    expect(measured.intervalMs).toBeCloseTo(577, 6);
    expect(measured.amplitudeMv).toBeCloseTo(0.3, 9);
    expect(measured.ratePerMin).toBeCloseTo(103.99, 2);
    // Order does not matter; one point twice has no rate.
    expect(caliper({ seconds: 1, millivolts: 0 }, { seconds: 0.6, millivolts: -0.5 })).toMatchObject({
      amplitudeMv: 0.5,
    });
    expect(caliper({ seconds: 1, millivolts: 0 }, { seconds: 1, millivolts: 0 }).ratePerMin).toBeUndefined();
  });
});
