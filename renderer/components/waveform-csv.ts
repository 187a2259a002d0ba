import { ECG_LEADS } from '../../shared/protocol/fhir/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';

export type EcgLead = keyof typeof ECG_LEADS;

export interface ParsedWaveform {
  readonly kind: 'ecg' | 'pleth';
  readonly series: readonly { readonly lead?: EcgLead; readonly samples: readonly number[] }[];
  /** The sample period, when the file has a time column (milliseconds) to derive it from. */
  readonly periodMs?: number;
  readonly samples: number;
}

/** Why a file cannot be read: a message of the `viewer` area and its values, for the form to say in the user's words. */
export interface WaveformCsvError {
  readonly id: MessageId;
  readonly values?: Readonly<Record<string, string | number>>;
}

const MAX_SAMPLES = 500_000;
const MAX_SERIES = 12;
const LEADS_BY_NAME = new Map((Object.keys(ECG_LEADS) as EcgLead[]).map((lead) => [lead.toLowerCase(), lead]));
const PLETH_NAMES: ReadonlySet<string> = new Set(['pleth', 'spo2', 'ppg', 'plethysmogram']);
const TIME_NAMES: ReadonlySet<string> = new Set(['time', 't', 'ms', 'time_ms', 'time (ms)', 'timestamp']);
const INDEX_NAMES: ReadonlySet<string> = new Set(['lead', 'sample', 'index', 'n', '#']);

const unquote = (cell: string) =>
  cell
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();

/**
 * Reads a waveform recording exported as CSV. The header row names the columns: ECG leads (I, II, III, aVR, aVL, aVF,
 * V1…V6), or a single "pleth" column for a pulse oximeter; a first column named "time" (milliseconds) gives the sample
 * period, one named "lead", "sample" or "index" is skipped. Every further row holds one sample per column.
 * Separators: comma, semicolon (then a decimal comma is accepted) or tab.
 */
export function parseWaveformCsv(
  text: string,
): { ok: true; value: ParsedWaveform } | { ok: false; error: WaveformCsvError } {
  const fail = (id: MessageId, values?: WaveformCsvError['values']) =>
    ({ ok: false, error: { id, ...(values && { values }) } }) as const;
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter((l) => l.line !== '' && !l.line.startsWith('#'));
  const header = lines[0];
  if (!header) return fail('viewer.csv.empty');
  const separator = header.line.includes('\t') ? '\t' : header.line.includes(';') ? ';' : ',';
  const names = header.line.split(separator).map(unquote);
  const first = names[0]?.toLowerCase() ?? '';
  const timeColumn = TIME_NAMES.has(first);
  const skipFirst = timeColumn || INDEX_NAMES.has(first);
  const dataNames = skipFirst ? names.slice(1) : names;
  if (dataNames.length === 0) return fail('viewer.csv.noColumns');
  if (dataNames.length > MAX_SERIES) return fail('viewer.csv.tooManyColumns', { max: MAX_SERIES });

  let kind: 'ecg' | 'pleth';
  const leads: EcgLead[] = [];
  if (dataNames.some((n) => PLETH_NAMES.has(n.toLowerCase()))) {
    if (dataNames.length !== 1) return fail('viewer.csv.plethAlone');
    kind = 'pleth';
  } else {
    kind = 'ecg';
    for (const name of dataNames) {
      const lead = LEADS_BY_NAME.get(name.toLowerCase());
      if (!lead) return fail('viewer.csv.notALead', { name });
      if (leads.includes(lead)) return fail('viewer.csv.leadTwice', { lead });
      leads.push(lead);
    }
  }

  const columns: number[][] = dataNames.map(() => []);
  const times: number[] = [];
  const rows = lines.slice(1);
  if (rows.length === 0) return fail('viewer.csv.noSamples');
  if (rows.length > MAX_SAMPLES) return fail('viewer.csv.tooManySamples', { max: MAX_SAMPLES, count: rows.length });
  const toNumber = (cell: string) => Number(separator === ';' ? cell.replace(',', '.') : cell);
  for (const { line, number } of rows) {
    const cells = line.split(separator).map(unquote);
    if (cells.length !== names.length)
      return fail('viewer.csv.columnCount', { line: number, count: cells.length, columns: names.length });
    if (timeColumn) {
      const t = toNumber(cells[0]!);
      if (cells[0] === '' || !Number.isFinite(t)) return fail('viewer.csv.badTime', { line: number, value: cells[0]! });
      times.push(t);
    }
    const values = skipFirst ? cells.slice(1) : cells;
    for (let c = 0; c < values.length; c++) {
      const value = toNumber(values[c]!);
      if (values[c] === '' || !Number.isFinite(value))
        return fail('viewer.csv.badValue', { line: number, column: dataNames[c]!, value: values[c]! });
      columns[c]!.push(value);
    }
  }

  let periodMs: number | undefined;
  if (timeColumn && times.length >= 2) {
    const span = times[times.length - 1]! - times[0]!;
    if (span <= 0) return fail('viewer.csv.timeNotIncreasing');
    periodMs = Math.round((span / (times.length - 1)) * 1e6) / 1e6;
  }
  return {
    ok: true,
    value: {
      kind,
      series: columns.map((samples, i) => (kind === 'ecg' ? { lead: leads[i]!, samples } : { samples })),
      ...(periodMs !== undefined && { periodMs }),
      samples: rows.length,
    },
  };
}
