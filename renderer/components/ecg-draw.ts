// Drawing an ECG strip on its canvas: the paper, the calibration pulse, the calipers (ecg-strips.tsx lays them out).
import uPlot from 'uplot';
import { CALIBRATION, gridLines, isLargeLine, SMALL_SQUARE, type CaliperPoint } from './ecg-grid.ts';

export const TRACE = '#111827';
const SMALL_LINE = '#f3c4c4';
const LARGE_LINE = '#d97a7a';
const CALIPER = '#0b5cad';
const PAPER = '#fffafa';

/** The calipers of one lead: none, one point, or the two whose interval is measured. */
export interface Calipers {
  readonly lead: number;
  readonly a?: CaliperPoint;
  readonly b?: CaliperPoint;
}

/** Draws ECG paper: the background and small and large squares, one path each. */
export function drawPaper(u: uPlot): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const [x0, x1] = [u.scales.x!.min!, u.scales.x!.max!];
  const [y0, y1] = [u.scales.y!.min!, u.scales.y!.max!];
  ctx.save();
  ctx.fillStyle = PAPER;
  ctx.fillRect(left, top, width, height);
  for (const large of [false, true]) {
    ctx.strokeStyle = large ? LARGE_LINE : SMALL_LINE;
    ctx.lineWidth = (large ? 1 : 0.5) * uPlot.pxRatio;
    ctx.beginPath();
    for (const t of gridLines(x0, x1, SMALL_SQUARE.seconds)) {
      if (isLargeLine(t, SMALL_SQUARE.seconds) !== large) continue;
      const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
    }
    for (const mv of gridLines(y0, y1, SMALL_SQUARE.millivolts)) {
      if (isLargeLine(mv, SMALL_SQUARE.millivolts) !== large) continue;
      const y = Math.round(u.valToPos(mv, 'y', true)) + 0.5;
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
    }
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * The calibration pulse (1 mV for 200 ms) in the strip's lead-in, drawn over the trace: paper is laid again there
 * first, so that what the recording holds before the window does not run through the pulse.
 */
export function drawCalibration(u: uPlot): void {
  const { ctx } = u;
  const { top, height } = u.bbox;
  const x0 = u.scales.x!.min!;
  const px = (t: number) => u.valToPos(t, 'x', true);
  const py = (mv: number) => u.valToPos(mv, 'y', true);
  ctx.save();
  ctx.beginPath();
  ctx.rect(px(x0), top, px(x0 + CALIBRATION.lead) - px(x0), height);
  ctx.clip();
  drawPaper(u);
  const begin = x0 + (CALIBRATION.lead - CALIBRATION.seconds) / 4;
  ctx.strokeStyle = TRACE;
  ctx.lineWidth = 1.5 * uPlot.pxRatio;
  ctx.beginPath();
  ctx.moveTo(px(x0), py(0));
  ctx.lineTo(px(begin), py(0));
  ctx.lineTo(px(begin), py(CALIBRATION.millivolts));
  ctx.lineTo(px(begin + CALIBRATION.seconds), py(CALIBRATION.millivolts));
  ctx.lineTo(px(begin + CALIBRATION.seconds), py(0));
  ctx.lineTo(px(x0 + CALIBRATION.lead), py(0));
  ctx.stroke();
  ctx.restore();
}

/** The caliper lines: a vertical at each point's time, a horizontal at its amplitude. */
export function drawCalipers(u: uPlot, calipers: Calipers | undefined): void {
  if (!calipers) return;
  const { ctx } = u;
  const { top, height, left, width } = u.bbox;
  ctx.save();
  ctx.strokeStyle = CALIPER;
  ctx.lineWidth = 1.5 * uPlot.pxRatio;
  ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
  ctx.beginPath();
  for (const p of [calipers.a, calipers.b]) {
    if (!p) continue;
    const x = u.valToPos(p.seconds, 'x', true);
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    if (Number.isNaN(p.millivolts)) continue;
    const y = u.valToPos(p.millivolts, 'y', true);
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
  }
  ctx.stroke();
  ctx.restore();
}
