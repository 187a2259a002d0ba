import { useEffect, useId, useMemo, useRef, useState } from 'react';
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
const TRACE = '#111827';
const SMALL_LINE = '#f3c4c4';
const LARGE_LINE = '#d97a7a';
const CALIPER = '#0b5cad';

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
  const [zoom, setZoom] = useState<(typeof ZOOMS)[number]>(1);
  const [calipers, setCalipers] = useState<Calipers>({ lead: 0 });
  const strips = useRef<HTMLDivElement>(null);
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
  const scale = paperScale(zoom);

  const place = (lead: number, point: CaliperPoint) =>
    setCalipers((c) => (c.lead !== lead || !c.a || c.b ? { lead, a: point } : { ...c, b: point }));
  const typed = (which: 'a' | 'b', value: string) => {
    const time = Number(value);
    if (!Number.isFinite(time)) return;
    const samples = waveform.series[calipers.lead]!.samples;
    const millivolts = sampleAt(samples, waveform.periodMs, time) ?? 0;
    setCalipers((c) => ({ ...c, [which]: { seconds: time, millivolts } }));
  };
  const measured = calipers.a && calipers.b ? caliper(calipers.a, calipers.b) : undefined;

  const seek = (time: number) => {
    const element = strips.current;
    if (!element) return;
    element.scrollLeft = Math.max(0, (time + CALIBRATION.lead) * scale.pxPerSecond - element.clientWidth / 2);
  };

  const description = `ECG, leads ${waveform.series.map((s) => s.lead ?? '?').join(', ')}: ${formatNumber(duration, 2)} s at ${formatNumber(1000 / waveform.periodMs, 1)} Hz, recorded ${formatDateTime(waveform.effective)}`;
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
        <span data-testid="ecg-paper">
          {zoom === 1 ? 'True size' : `×${zoom}`}: 25 mm/s, 10 mm/mV; small square 0.04 s × 0.1 mV, large 0.2 s × 0.5 mV
        </span>
      </div>
      <div className="ecg-rhythm">
        <span className="ecg-lead-name">Rhythm ({names[rhythm]})</span>
        <RhythmStrip seconds={seconds} samples={waveform.series[rhythm]!.samples} onSeek={seek} />
      </div>
      <div className="ecg-strips" ref={strips} tabIndex={0} aria-label="ECG strips, scroll to move in time">
        {waveform.series.map((s, i) => (
          <div className="ecg-strip" key={i}>
            <span className="ecg-lead-name">{names[i]}</span>
            <PaperStrip
              seconds={seconds}
              samples={s.samples}
              duration={duration}
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
        <label htmlFor={`${id}-a`}>From (s)</label>
        <input
          id={`${id}-a`}
          type="number"
          step={0.004}
          min={0}
          max={duration}
          value={calipers.a ? Number(calipers.a.seconds.toFixed(3)) : ''}
          onChange={(e) => typed('a', e.target.value)}
        />
        <label htmlFor={`${id}-b`}>To (s)</label>
        <input
          id={`${id}-b`}
          type="number"
          step={0.004}
          min={0}
          max={duration}
          value={calipers.b ? Number(calipers.b.seconds.toFixed(3)) : ''}
          onChange={(e) => typed('b', e.target.value)}
        />
        <button type="button" onClick={() => setCalipers((c) => ({ lead: c.lead }))}>
          Clear
        </button>
        <output aria-live="polite" data-testid="ecg-caliper">
          {measured
            ? `${names[calipers.lead]}: ${formatNumber(measured.intervalMs, 0)} ms, ${formatNumber(measured.amplitudeMv, 2)} mV${measured.ratePerMin ? ` (${formatNumber(measured.ratePerMin, 0)}/min)` : ''}`
            : 'Click two points on a strip, or type two times, to measure.'}
        </output>
      </fieldset>
    </figure>
  );
}

/** Draws ECG paper (small and large squares) and the calibration pulse under a strip. */
function drawPaper(u: uPlot): void {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const [x0, x1] = [u.scales.x!.min!, u.scales.x!.max!];
  const [y0, y1] = [u.scales.y!.min!, u.scales.y!.max!];
  ctx.save();
  ctx.fillStyle = '#fffafa';
  ctx.fillRect(left, top, width, height);
  const line = (large: boolean) => {
    ctx.strokeStyle = large ? LARGE_LINE : SMALL_LINE;
    ctx.lineWidth = (large ? 1 : 0.5) * uPlot.pxRatio;
  };
  for (const t of gridLines(x0, x1, SMALL_SQUARE.seconds)) {
    const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
    line(isLargeLine(t, SMALL_SQUARE.seconds));
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  for (const mv of gridLines(y0, y1, SMALL_SQUARE.millivolts)) {
    const y = Math.round(u.valToPos(mv, 'y', true)) + 0.5;
    line(isLargeLine(mv, SMALL_SQUARE.millivolts));
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + width, y);
    ctx.stroke();
  }
  // The calibration pulse: 1 mV for 200 ms, in the lead-in before the recording.
  const start = -CALIBRATION.lead + (CALIBRATION.lead - CALIBRATION.seconds) / 4;
  const px = (t: number) => u.valToPos(t, 'x', true);
  const py = (mv: number) => u.valToPos(mv, 'y', true);
  ctx.strokeStyle = TRACE;
  ctx.lineWidth = 1.5 * uPlot.pxRatio;
  ctx.beginPath();
  ctx.moveTo(px(-CALIBRATION.lead), py(0));
  ctx.lineTo(px(start), py(0));
  ctx.lineTo(px(start), py(CALIBRATION.millivolts));
  ctx.lineTo(px(start + CALIBRATION.seconds), py(CALIBRATION.millivolts));
  ctx.lineTo(px(start + CALIBRATION.seconds), py(0));
  ctx.lineTo(px(0), py(0));
  ctx.stroke();
  ctx.restore();
}

/** One lead on paper at true scale (times the zoom): fixed size, wider than the screen when the recording is long. */
function PaperStrip({
  seconds,
  samples,
  duration,
  zoom,
  calipers,
  onPoint,
}: {
  seconds: readonly number[];
  samples: readonly (number | null)[];
  duration: number;
  zoom: number;
  calipers: Calipers | undefined;
  onPoint: (point: CaliperPoint) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(undefined);
  const shown = useRef(calipers);
  const pointed = useRef(onPoint);
  useEffect(() => {
    pointed.current = onPoint;
  });
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const range = stripRange(samples);
    const size = stripSize(duration, range, paperScale(zoom));
    const u = new uPlot(
      {
        width: size.width,
        height: size.height,
        padding: [0, 0, 0, 0],
        scales: { x: { time: false, range: [-CALIBRATION.lead, duration] }, y: { range } },
        axes: [{ show: false }, { show: false }],
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: false } },
        series: [{}, { stroke: TRACE, width: 1.25, spanGaps: false, points: { show: false } }],
        hooks: {
          drawClear: [drawPaper],
          draw: [
            (plotted) => {
              const c = shown.current;
              if (!c) return;
              const { ctx } = plotted;
              const { top, height, left, width } = plotted.bbox;
              ctx.save();
              ctx.strokeStyle = CALIPER;
              ctx.lineWidth = 1.5 * uPlot.pxRatio;
              ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
              for (const p of [c.a, c.b]) {
                if (!p) continue;
                const x = plotted.valToPos(p.seconds, 'x', true);
                const y = plotted.valToPos(p.millivolts, 'y', true);
                ctx.beginPath();
                ctx.moveTo(x, top);
                ctx.lineTo(x, top + height);
                ctx.moveTo(left, y);
                ctx.lineTo(left + width, y);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      },
      [seconds as number[], samples as (number | null)[]],
      element,
    );
    u.over.addEventListener('click', () => {
      const { left, top } = u.cursor;
      if (left === undefined || top === undefined || left < 0) return;
      pointed.current({ seconds: u.posToVal(left, 'x'), millivolts: u.posToVal(top, 'y') });
    });
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = undefined;
    };
  }, [seconds, samples, duration, zoom]);
  useEffect(() => {
    shown.current = calipers;
    plot.current?.redraw(false, false);
  }, [calipers]);
  return <div ref={container} className="ecg-paper" aria-hidden="true" />;
}

/** The whole recording of one lead, as wide as the screen: a click moves the strips to that moment. */
function RhythmStrip({
  seconds,
  samples,
  onSeek,
}: {
  seconds: readonly number[];
  samples: readonly (number | null)[];
  onSeek: (seconds: number) => void;
}) {
  const sought = useRef(onSeek);
  useEffect(() => {
    sought.current = onSeek;
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
  return <UplotChart options={options} data={data} height={LARGE_SQUARE.millivolts * 120} />;
}
