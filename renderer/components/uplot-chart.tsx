import { useEffect, useRef } from 'react';
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
