import { Fragment, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useIntl } from 'react-intl';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CaseView } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';
import { formatDateTime, formatNumber } from './case-format.ts';
import { drawCalibration, drawCalipers, drawPaper, TRACE, type Calipers } from './ecg-draw.ts';
import {
  CALIBRATION,
  caliper,
  LARGE_SQUARE,
  paperScale,
  stripRange,
  stripSize,
  type CaliperPoint,
} from './ecg-grid.ts';
import { UplotChart } from './uplot-chart.tsx';

type Waveform = CaseView['waveforms'][number];

const ZOOMS = [1, 1.5, 2, 3] as const;
/** Seconds of recording a strip shows at true size (about 1,000 px); zooming in shows less of it, larger. */
const WINDOW_SECONDS = 10;

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
  const t = useT();
  const [zoom, setZoom] = useState<(typeof ZOOMS)[number]>(1);
  const [calipers, setCalipers] = useState<Calipers>({ lead: 0 });
  const [wanted, setStart] = useState(0);
  const id = useId();
  const names = waveform.series.map((s, i) =>
    s.lead ? t('viewer.lead', { lead: s.lead }) : t('viewer.channel', { number: i + 1 }),
  );
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

  const description = t('viewer.ecg.description', {
    leads: intl.formatList(
      waveform.series.map((s) => s.lead ?? '?'),
      { type: 'conjunction', style: 'narrow' },
    ),
    duration: formatNumber(intl, duration, 2),
    rate: formatNumber(intl, 1000 / waveform.periodMs, 1),
    date: formatDateTime(intl, waveform.effective),
  });
  return (
    <figure className="plot ecg" aria-label={description} data-testid="waveform-plot">
      <figcaption>{description}</figcaption>
      <div className="ecg-tools" role="group" aria-label={t('viewer.ecg.tools')}>
        <button type="button" disabled={zoom === ZOOMS[0]} onClick={() => setZoom(ZOOMS[ZOOMS.indexOf(zoom) - 1]!)}>
          {t('viewer.zoomOut')}
        </button>
        <button type="button" disabled={zoom === ZOOMS.at(-1)} onClick={() => setZoom(ZOOMS[ZOOMS.indexOf(zoom) + 1]!)}>
          {t('viewer.zoomIn')}
        </button>
        <button type="button" disabled={start <= 0} onClick={() => moveTo(start - span / 2)}>
          {t('viewer.ecg.earlier')}
        </button>
        <button type="button" disabled={start + span >= duration - 1e-6} onClick={() => moveTo(start + span / 2)}>
          {t('viewer.ecg.later')}
        </button>
        <span data-testid="ecg-paper">
          {t('viewer.ecg.paper', {
            scale: zoom === 1 ? 'trueSize' : 'zoomed',
            zoom: formatNumber(intl, zoom),
            from: formatNumber(intl, start, 1),
            to: formatNumber(intl, start + span, 1),
            duration: formatNumber(intl, duration, 1),
          })}
        </span>
      </div>
      <div className="ecg-rhythm">
        <span className="ecg-lead-name">{t('viewer.ecg.rhythm', { lead: names[rhythm] })}</span>
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
        <legend>{t('viewer.ecg.calipers')}</legend>
        <label htmlFor={`${id}-lead`}>{t('viewer.ecg.caliperLead')}</label>
        <select id={`${id}-lead`} value={calipers.lead} onChange={(e) => setCalipers({ lead: Number(e.target.value) })}>
          {names.map((name, i) => (
            <option key={i} value={i}>
              {name}
            </option>
          ))}
        </select>
        {(['a', 'b'] as const).map((which) => (
          <Fragment key={which}>
            <label htmlFor={`${id}-${which}`}>{t(which === 'a' ? 'viewer.ecg.from' : 'viewer.ecg.to')}</label>
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
          {t('viewer.ecg.clear')}
        </button>
        <output aria-live="polite" data-testid="ecg-caliper">
          {measured
            ? t('viewer.ecg.measured', {
                lead: names[calipers.lead],
                interval: formatNumber(intl, measured.intervalMs, 0),
                amplitude: Number.isNaN(measured.amplitudeMv) ? 'none' : formatNumber(intl, measured.amplitudeMv, 2),
                rate: measured.ratePerMin ? formatNumber(intl, measured.ratePerMin, 0) : 'none',
              })
            : t('viewer.ecg.measureHint')}
        </output>
      </fieldset>
    </figure>
  );
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
