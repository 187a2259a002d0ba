import { useMemo } from 'react';
import { useIntl } from 'react-intl';
import type uPlot from 'uplot';
import { useT } from '../i18n/index.ts';
import { formatDateTime, formatNumber, seriesStats } from './case-format.ts';
import { numberAxis, SERIES_COLOURS, timeAxis, UplotChart } from './uplot-chart.tsx';

export interface TrendSeries {
  readonly label: string;
  readonly points: readonly { readonly at: string; readonly value: number }[];
}

/**
 * One measure over time (several series for a measure with components, such as blood pressure), with a text summary
 * in place of the canvas for screen readers: first and last time, and min, max and last value of each series.
 */
export function TrendPlot({ title, unit, series }: { title: string; unit: string; series: readonly TrendSeries[] }) {
  const intl = useIntl();
  const t = useT();
  const { data, options, summary } = useMemo(() => {
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.at))))]
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const columns = series.map((s) => {
      const byTime = new Map(s.points.map((p) => [Date.parse(p.at), p.value]));
      return times.map((t) => byTime.get(t) ?? null);
    });
    const aligned = [times.map((t) => t / 1000), ...columns] as uPlot.AlignedData;
    const opts: Omit<uPlot.Options, 'width' | 'height'> = {
      scales: { x: { time: true } },
      axes: [{ values: timeAxis(intl) }, { label: unit || undefined, size: 56, values: numberAxis(intl) }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: SERIES_COLOURS[i % SERIES_COLOURS.length]!,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 7 },
        })),
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    const parts = series.map((s) => {
      const stats = seriesStats(s.points.map((p) => p.value));
      return stats
        ? t('viewer.stats', {
            name: s.label,
            min: formatNumber(intl, stats.min),
            max: formatNumber(intl, stats.max),
            last: formatNumber(intl, stats.last),
            unit: unit && ` ${unit}`,
          })
        : '';
    });
    const span =
      times.length > 0
        ? t('viewer.trend.span', {
            count: times.length,
            from: formatDateTime(intl, times[0]!),
            to: formatDateTime(intl, times[times.length - 1]!),
          })
        : t('viewer.trend.none');
    return { data: aligned, options: opts, summary: [span, ...parts].join(' ') };
  }, [series, unit, intl, t]);

  return (
    <figure className="plot" aria-label={t('viewer.trend.label', { title })}>
      <figcaption>
        {title}
        {unit && <span className="plot-unit"> ({unit})</span>}
      </figcaption>
      <UplotChart options={options} data={data} height={180} />
      <p className="visually-hidden">{summary}</p>
    </figure>
  );
}
