import { useMemo } from 'react';
import { useIntl } from 'react-intl';
import type uPlot from 'uplot';
import type { CaseView } from '../../shared/api/index.ts';
import { WAVEFORMS } from '../../shared/protocol/fhir/index.ts';
import { useT } from '../i18n/index.ts';
import { formatDateTime, formatNumber, seriesStats, unitDisplay, waveformLabel } from './case-format.ts';
import { EcgStrips } from './ecg-strips.tsx';
import { numberAxis, SERIES_COLOURS, UplotChart } from './uplot-chart.tsx';

type Waveform = CaseView['waveforms'][number];

/** A sampled waveform: an ECG on paper, one strip per lead (ecg-strips.tsx); anything else as a plot. */
export function WaveformPlot({ waveform }: { waveform: Waveform }) {
  return waveform.kind === 'ecg' ? <EcgStrips waveform={waveform} /> : <SampledPlot waveform={waveform} />;
}

/**
 * A sampled waveform other than an ECG (a pulse oximeter's plethysmogram), its own strip: one series per channel, x in
 * seconds from the sample period. Screen readers get the recording's length and rate and each channel's min, max and
 * last value.
 */
function SampledPlot({ waveform }: { waveform: Waveform }) {
  const intl = useIntl();
  const t = useT();
  const unit = unitDisplay(WAVEFORMS[waveform.kind].unit);
  const label = waveformLabel(intl, waveform.kind);
  const { data, options, summary, description } = useMemo(() => {
    const length = Math.max(...waveform.series.map((s) => s.samples.length));
    const seconds = Array.from({ length }, (_, i) => (i * waveform.periodMs) / 1000);
    const columns = waveform.series.map((s) => Array.from({ length }, (_, i) => s.samples[i] ?? null));
    const names = waveform.series.map((s, i) =>
      s.lead
        ? t('viewer.lead', { lead: s.lead })
        : waveform.series.length === 1
          ? label
          : t('viewer.channel', { number: i + 1 }),
    );
    const opts: Omit<uPlot.Options, 'width' | 'height'> = {
      scales: { x: { time: false } },
      axes: [
        { label: t('viewer.timeAxis'), values: numberAxis(intl) },
        { label: unit || undefined, size: 56, values: numberAxis(intl) },
      ],
      series: [
        { label: 's', value: (_u, v) => (v == null ? '' : `${formatNumber(intl, v, 3)} s`) },
        ...names.map((name, i) => ({ label: name, stroke: SERIES_COLOURS[i % SERIES_COLOURS.length]!, width: 1.25 })),
      ],
      legend: { live: false },
      cursor: { drag: { x: true, y: false } },
    };
    const duration = (length * waveform.periodMs) / 1000;
    const rate = 1000 / waveform.periodMs;
    const stats = waveform.series.map((s, i) => {
      const st = seriesStats(s.samples);
      return st
        ? t('viewer.stats', {
            name: names[i],
            min: formatNumber(intl, st.min),
            max: formatNumber(intl, st.max),
            last: formatNumber(intl, st.last),
            unit: unit && ` ${unit}`,
          })
        : '';
    });
    const recording = {
      label,
      duration: formatNumber(intl, duration, 2),
      rate: formatNumber(intl, rate, 1),
      date: formatDateTime(intl, waveform.effective),
    };
    return {
      data: [seconds, ...columns] as uPlot.AlignedData,
      options: opts,
      description: waveform.series.some((s) => s.lead)
        ? t('viewer.waveform.descriptionLeads', {
            ...recording,
            leads: intl.formatList(
              waveform.series.map((s) => s.lead ?? '?'),
              { type: 'conjunction', style: 'narrow' },
            ),
          })
        : t('viewer.waveform.description', recording),
      summary: [t('viewer.waveform.samples', { count: length }), ...stats].join(' '),
    };
  }, [waveform, unit, label, intl, t]);

  return (
    <figure className="plot" aria-label={description} data-testid="waveform-plot">
      <figcaption>{description}</figcaption>
      <UplotChart options={options} data={data} height={220} />
      <p className="visually-hidden">{summary}</p>
    </figure>
  );
}
