import { seriesStats } from './case-format.ts';
/**
 * The paper an ECG is read on (IEC 60601-2-25 conventions): 25 mm/s, 10 mm/mV, small squares of 1 mm (0.04 s,
 * 0.1 mV) and large squares of 5 mm (0.2 s, 0.5 mV), a 1 mV calibration pulse of 200 ms before each strip. Pure
 * maths, so that what a cardiologist measures on screen is tested.
 */
export const PAPER_SPEED_MM_PER_S = 25;
export const GAIN_MM_PER_MV = 10;
/** CSS pixels per millimetre (a CSS inch is 96 px). */
export const CSS_PX_PER_MM = 96 / 25.4;

export const SMALL_SQUARE = { seconds: 0.04, millivolts: 0.1 } as const;
export const LARGE_SQUARE = { seconds: 0.2, millivolts: 0.5 } as const;
/** The calibration pulse: 1 mV high, 200 ms wide, drawn in the 0.4 s before the strip's first sample. */
export const CALIBRATION = { millivolts: 1, seconds: 0.2, lead: 0.4 } as const;

export interface PaperScale {
  readonly pxPerSecond: number;
  readonly pxPerMillivolt: number;
}

/** Pixels per second and per millivolt at a zoom (1 = true size on a 96 dpi screen). */
export function paperScale(zoom: number): PaperScale {
  return {
    pxPerSecond: PAPER_SPEED_MM_PER_S * CSS_PX_PER_MM * zoom,
    pxPerMillivolt: GAIN_MM_PER_MV * CSS_PX_PER_MM * zoom,
  };
}

/** Multiples of `step` from `from` to `to` (inclusive), free of the drift adding floats would bring. */
export function gridLines(from: number, to: number, step: number): number[] {
  const first = Math.ceil(from / step - 1e-9);
  const last = Math.floor(to / step + 1e-9);
  const lines: number[] = [];
  for (let i = first; i <= last; i++) lines.push(Number((i * step).toFixed(6)));
  return lines;
}

/** Whether a grid line at `value` is a large square's (every fifth). */
export function isLargeLine(value: number, small: number): boolean {
  return Math.round(value / small) % 5 === 0;
}

/**
 * The millivolt range a strip shows: its samples' range, widened to whole large squares, and never less than what the
 * calibration pulse needs (−0.5 to +1.5 mV).
 */
export function stripRange(samples: readonly (number | null)[]): [number, number] {
  const stats = seriesStats(samples);
  const step = LARGE_SQUARE.millivolts;
  const low = Math.min(-0.5, stats ? Math.floor(stats.min / step) * step : 0);
  const high = Math.max(1.5, stats ? Math.ceil(stats.max / step) * step : 0);
  return [low, high];
}

/** A strip's plotting area in CSS pixels: the calibration lead-in and the recording at paper speed, the range at gain. */
export function stripSize(durationSeconds: number, range: readonly [number, number], scale: PaperScale) {
  return {
    width: Math.round((CALIBRATION.lead + durationSeconds) * scale.pxPerSecond),
    height: Math.round((range[1] - range[0]) * scale.pxPerMillivolt),
  };
}

export interface CaliperPoint {
  readonly seconds: number;
  readonly millivolts: number;
}

/** What two caliper points measure: the interval, the amplitude between them, and the rate that interval implies. */
export function caliper(
  a: CaliperPoint,
  b: CaliperPoint,
): { intervalMs: number; amplitudeMv: number; ratePerMin?: number } {
  const intervalMs = Math.abs(b.seconds - a.seconds) * 1000;
  return {
    intervalMs,
    amplitudeMv: Math.abs(b.millivolts - a.millivolts),
    ...(intervalMs > 0 && { ratePerMin: 60_000 / intervalMs }),
  };
}
