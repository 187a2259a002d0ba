import { Fragment, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useIntl } from 'react-intl';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CaseView } from '../../shared/api/index.ts';
import { formatDateTime, formatNumber } from './case-format.ts';
import {
  CALIBRATION,
  caliper,
  gridLines,
  isLargeLine,
  LARGE_SQUARE,
  paperScale,
  SMALL_SQUARE,
  stripRange,
  stripSize,
  type CaliperPoint,
} from './ecg-grid.ts';
import { UplotChart } from './uplot-chart.tsx';

type Waveform = CaseView['waveforms'][number];

const ZOOMS = [1, 1.5, 2, 3] as const;
/** Seconds of recording a strip shows at true size (about 1,000 px); zooming in shows less of it, larger. */
const WINDOW_SECONDS = 10;
const TRACE = '#111827';
const SMALL_LINE = '#f3c4c4';
const LARGE_LINE = '#d97a7a';
const CALIPER = '#0b5cad';
const PAPER = '#fffafa';

interface Calipers {
  readonly lead: number;
  readonly a?: CaliperPoint;
  readonly b?: CaliperPoint;
}

/** The sample of `series` nearest to `seconds` (null in a gap). */
function sampleAt(samples: readonly (number | null)[], periodMs: number, seconds: number): number | null {
  const index = Math.round((seconds * 1000) / periodMs);
  return samples[Math.min(Math.max(index, 0), samples.length - 1)] ?? null;
}

/**
 * An ECG as a cardiologist reads it: one strip per lead on ECG paper (25 mm/s, 10 mm/mV, small and large squares, a
 * 1 mV calibration pulse), scrolled together; a rhythm strip of the whole recording to move through it; zoom; and
 * calipers (two clicks on a strip, or two times typed) that measure an interval, an amplitude and the rate.
 */
export function EcgStrips({ waveform }: { waveform: Waveform }) {
  const intl = useIntl();
  const [zoom, setZoom] = useState<(typeof ZOOMS)[number]>(1);
  const [calipers, setCalipers] = useState<Calipers>({ lead: 0 });
  const [wanted, setStart] = useState(0);
  const id = useId();
  const names = waveform.series.map((s, i) => (s.lead ? `Lead ${s.lead}` : `Channel ${i + 1}`));
  const length = Math.max(...waveform.series.map((s) => s.samples.length));
  const duration = (length * waveform.periodMs) / 1000;
  const seconds = useMemo(
    () => Array.from({ length }, (_, i) => (i * waveform.periodMs) / 1000),
    [length, waveform.periodMs],
  );
  // The rhythm strip: lead II where there is one, as on a 12-lead printout.
  const rhythm = Math.max(
    0,
    waveform.series.findIndex((s) => s.lead === 'II'),
  );
  // The strips show a window of the recording at paper scale (a canvas cannot be minutes wide); the rhythm strip and
  // the buttons move it.
  const span = Math.min(duration, WINDOW_SECONDS / zoom);
  const start = Math.min(Math.max(0, wanted), Math.max(0, duration - span));
  const moveTo = (seconds: number) => setStart(Math.min(Math.max(0, seconds), Math.max(0, duration - span)));

  const place = (lead: number, point: CaliperPoint) =>
    setCalipers((c) => (c.lead !== lead || !c.a || c.b ? { lead, a: point } : { ...c, b: point }));
  const typed = (which: 'a' | 'b', value: string) => {
    if (value.trim() === '') {
      setCalipers((c) => ({ lead: c.lead, ...(which === 'a' ? c.b && { b: c.b } : c.a && { a: c.a }) }));
      return;
    }
    const time = Number(value);
    if (!Number.isFinite(time) || time < 0 || time > duration) return;
    const samples = waveform.series[calipers.lead]!.samples;
    // A gap in the trace has no amplitude to measure.
    const millivolts = sampleAt(samples, waveform.periodMs, time) ?? Number.NaN;
    setCalipers((c) => ({ ...c, [which]: { seconds: time, millivolts } }));
    if (time < start || time > start + span) moveTo(time - span / 2);
  };
  const measured = calipers.a && calipers.b ? caliper(calipers.a, calipers.b) : undefined;

  const description = `ECG, leads ${waveform.series.map((s) => s.lead ?? '?').join(', ')}: ${formatNumber(intl, duration, 2)} s at ${formatNumber(intl, 1000 / waveform.periodMs, 1)} Hz, recorded ${formatDateTime(intl, waveform.effective)}`;
  return (
    <figure className="plot ecg" aria-label={description} data-testid="waveform-plot">
      <figcaption>{description}</figcaption>
      <div className="ecg-tools" role="group" aria-label="ECG view">
        <button type="button" disabled={zoom === ZOOMS[0]} onClick={() => setZoom(ZOOMS[ZOOMS.indexOf(zoom) - 1]!)}>
          Zoom out
        </button>
        <button type="button" disabled={zoom === ZOOMS.at(-1)} onClick={() => setZoom(ZOOMS[ZOOMS.indexOf(zoom) + 1]!)}>
          Zoom in
        </button>
        <button type="button" disabled={start <= 0} onClick={() => moveTo(start - span / 2)}>
          Earlier
        </button>
        <button type="button" disabled={start + span >= duration - 1e-6} onClick={() => moveTo(start + span / 2)}>
          Later
        </button>
        <span data-testid="ecg-paper">
          {zoom === 1 ? 'True size' : `×${zoom}`}: 25 mm/s, 10 mm/mV; small square 0.04 s × 0.1 mV, large 0.2 s × 0.5
          mV; showing {formatNumber(intl, start, 1)}–{formatNumber(intl, start + span, 1)} s of{' '}
          {formatNumber(intl, duration, 1)} s
        </span>
      </div>
      <div className="ecg-rhythm">
        <span className="ecg-lead-name">Rhythm ({names[rhythm]})</span>
        <RhythmStrip
          seconds={seconds}
          samples={waveform.series[rhythm]!.samples}
          shown={[start, start + span]}
          onSeek={(t) => moveTo(t - span / 2)}
        />
      </div>
      <div className="ecg-strips">
        {waveform.series.map((s, i) => (
          <div className="ecg-strip" key={i}>
            <span className="ecg-lead-name">{names[i]}</span>
            <PaperStrip
              seconds={seconds}
              samples={s.samples}
              start={start}
              span={span}
              zoom={zoom}
              calipers={calipers.lead === i ? calipers : undefined}
              onPoint={(point) => place(i, point)}
            />
          </div>
        ))}
      </div>
      <fieldset className="ecg-calipers">
        <legend>Calipers</legend>
        <label htmlFor={`${id}-lead`}>Lead</label>
        <select id={`${id}-lead`} value={calipers.lead} onChange={(e) => setCalipers({ lead: Number(e.target.value) })}>
          {names.map((name, i) => (
            <option key={i} value={i}>
              {name}
            </option>
          ))}
        </select>
        {(['a', 'b'] as const).map((which) => (
          <Fragment key={which}>
            <label htmlFor={`${id}-${which}`}>{which === 'a' ? 'From (s)' : 'To (s)'}</label>
            <input
              id={`${id}-${which}`}
              type="number"
              step="any"
              min={0}
              max={duration}
              value={calipers[which] ? Number(calipers[which].seconds.toFixed(3)) : ''}
              onChange={(e) => typed(which, e.target.value)}
            />
          </Fragment>
        ))}
        <button type="button" onClick={() => setCalipers((c) => ({ lead: c.lead }))}>
          Clear
        </button>
        <output aria-live="polite" data-testid="ecg-caliper">
          {measured
            ? `${names[calipers.lead]}: ${formatNumber(intl, measured.intervalMs, 0)} ms, ${Number.isNaN(measured.amplitudeMv) ? 'no sample for an amplitude' : `${formatNumber(intl, measured.amplitudeMv, 2)} mV`}${measured.ratePerMin ? ` (${formatNumber(intl, measured.ratePerMin, 0)}/min)` : ''}`
            : 'Click two points on a strip, or type two times, to measure.'}
        </output>
      </fieldset>
    </figure>
  );
}

/** Draws ECG paper: the background and small and large squares, one path each. */
function drawPaper(u: uPlot): void {
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
function drawCalibration(u: uPlot): void {
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

/** One lead on paper at true scale (times the zoom): a window of `span` seconds from `start`, after its lead-in. */
function PaperStrip({
  seconds,
  samples,
  start,
  span,
  zoom,
  calipers,
  onPoint,
}: {
  seconds: readonly number[];
  samples: readonly (number | null)[];
  start: number;
  span: number;
  zoom: number;
  calipers: Calipers | undefined;
  onPoint: (point: CaliperPoint) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(undefined);
  const shown = useRef(calipers);
  const pointed = useRef(onPoint);
  const from = useRef(start);
  useEffect(() => {
    pointed.current = onPoint;
  });
  // The recording's range, not the view's: read once, not at each zoom.
  const range = useMemo(() => stripRange(samples), [samples]);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const size = stripSize(span, range, paperScale(zoom));
    const u = new uPlot(
      {
        width: size.width,
        height: size.height,
        padding: [0, 0, 0, 0],
        scales: {
          x: { time: false, range: (_u, min, max) => [min, max] },
          y: { range },
        },
        axes: [{ show: false }, { show: false }],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        series: [{}, { stroke: TRACE, width: 1.25, spanGaps: false, points: { show: false } }],
        hooks: {
          drawClear: [drawPaper],
          draw: [drawCalibration, (plotted) => drawCalipers(plotted, shown.current)],
        },
      },
      [seconds as number[], samples as (number | null)[]],
      element,
    );
    u.setScale('x', { min: from.current - CALIBRATION.lead, max: from.current + span });
    u.over.addEventListener('click', () => {
      const { left, top } = u.cursor;
      if (left === undefined || top === undefined || left < 0) return;
      const time = u.posToVal(left, 'x');
      // The lead-in holds the calibration pulse, not the recording.
      if (time < u.scales.x!.min! + CALIBRATION.lead) return;
      pointed.current({ seconds: time, millivolts: u.posToVal(top, 'y') });
    });
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = undefined;
    };
  }, [seconds, samples, range, span, zoom]);
  useEffect(() => {
    from.current = start;
    plot.current?.setScale('x', { min: start - CALIBRATION.lead, max: start + span });
  }, [start, span]);
  useEffect(() => {
    shown.current = calipers;
    plot.current?.redraw(false, false);
  }, [calipers]);
  return <div ref={container} className="ecg-paper" aria-hidden="true" />;
}

/** The caliper lines: a vertical at each point's time, a horizontal at its amplitude. */
function drawCalipers(u: uPlot, calipers: Calipers | undefined): void {
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

/** The whole recording of one lead, as wide as the screen, the strips' window shaded: a click moves the window there. */
function RhythmStrip({
  seconds,
  samples,
  shown,
  onSeek,
}: {
  seconds: readonly number[];
  samples: readonly (number | null)[];
  shown: readonly [number, number];
  onSeek: (seconds: number) => void;
}) {
  const sought = useRef(onSeek);
  const band = useRef(shown);
  const [from, to] = shown;
  // Before the chart's own effect redraws with it (a child's effects run first).
  useLayoutEffect(() => {
    sought.current = onSeek;
    band.current = [from, to];
  });
  const { options, data } = useMemo(() => {
    const range = stripRange(samples);
    const opts: Omit<uPlot.Options, 'width' | 'height'> = {
      padding: [4, 0, 4, 0],
      scales: { x: { time: false }, y: { range } },
      axes: [{ show: false }, { show: false }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      series: [{}, { stroke: TRACE, width: 1 }],
      hooks: {
        drawClear: [
          (u) => {
            const [a, b] = band.current;
            const { top, height } = u.bbox;
            u.ctx.save();
            u.ctx.fillStyle = '#dbe7f6';
            u.ctx.fillRect(u.valToPos(a, 'x', true), top, u.valToPos(b, 'x', true) - u.valToPos(a, 'x', true), height);
            u.ctx.restore();
          },
        ],
        ready: [
          (u) =>
            u.over.addEventListener('click', () => {
              if (u.cursor.left !== undefined && u.cursor.left >= 0) sought.current(u.posToVal(u.cursor.left, 'x'));
            }),
        ],
      },
    };
    return { options: opts, data: [seconds as number[], samples as (number | null)[]] as uPlot.AlignedData };
  }, [seconds, samples]);
  return (
    <UplotChart options={options} data={data} height={LARGE_SQUARE.millivolts * 120} redrawKey={`${from} ${to}`} />
  );
}
