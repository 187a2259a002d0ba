import { useEffect, useRef } from 'react';
import type { IntlShape } from 'react-intl';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A uPlot chart drawn into a div, as wide as its container (it follows resizes) and destroyed on unmount. The canvas
 * says nothing to assistive technology: callers wrap it in a figure with an aria-label and a text summary.
 * `options` and `data` must keep their identity between renders (useMemo), or the chart is redrawn each time.
 */
export function UplotChart({
  options,
  data,
  height,
  redrawKey,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height: number;
  /** When it changes, the chart is drawn again (for hooks that draw what the caller's state says). */
  redrawKey?: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot>(undefined);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const width = () => Math.max(240, Math.floor(element.clientWidth));
    const plot = new uPlot({ ...options, width: width(), height }, data, element);
    chart.current = plot;
    let last = width();
    const observer = new ResizeObserver(() => {
      const next = width();
      if (next === last) return;
      last = next;
      plot.setSize({ width: next, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = undefined;
    };
  }, [options, data, height]);
  useEffect(() => chart.current?.redraw(false, false), [redrawKey]);
  return <div ref={container} className="plot-canvas" aria-hidden="true" />;
}

/** An axis's numbers as the user's language writes them (uPlot's own follow the OS, not the app's language). */
export function numberAxis(intl: IntlShape): uPlot.Axis.Values {
  return (_u, splits) => splits.map((v) => intl.formatNumber(v, { maximumFractionDigits: 3 }));
}

/**
 * A time axis (seconds since the epoch) in the user's language: days, or times with the day under the first of each
 * day, as uPlot's own axis does in English.
 */
export function timeAxis(intl: IntlShape): uPlot.Axis.Values {
  return (_u, splits, _axis, _space, increment) => {
    let shownDay = '';
    return splits.map((seconds) => {
      const at = seconds * 1000;
      if (increment >= 28 * 86_400) return intl.formatDate(at, { year: 'numeric', month: 'short' });
      const day = intl.formatDate(at, { month: 'short', day: 'numeric' });
      if (increment >= 86_400) return day;
      const time = intl.formatTime(at, { hour: '2-digit', minute: '2-digit' });
      const label = day === shownDay ? time : `${time}\n${day}`;
      shownDay = day;
      return label;
    });
  };
}

/** Distinct line colours with enough contrast on white (ECG leads, blood pressure components). */
export const SERIES_COLOURS = [
  '#0b5cad',
  '#b42318',
  '#1a7f37',
  '#8a3ffc',
  '#9a6700',
  '#007d79',
  '#d12771',
  '#4a5565',
  '#6929c4',
  '#198038',
  '#a2191f',
  '#002d9c',
];
