import { describe, expect, it } from 'vitest';
import { reportDraftFrom, reportDraftOf } from './report-editor.tsx';

const draft = {
  findings: 'ST elevation II, III, aVF',
  conclusion: 'Inferior STEMI: transfer for PCI',
  diagnoses: [{ key: 1, text: 'Inferior STEMI', code: 'I21.1' }],
  prescriptions: [
    {
      key: 2,
      medication: 'Acetylsalicylic acid',
      dose: '300',
      unit: 'mg',
      frequency: '1',
      period: '1',
      periodUnit: 'd' as const,
      route: 'oral',
      instructions: 'chewed',
    },
  ],
};
const unkeyed = (d: typeof draft) => ({
  ...d,
  diagnoses: d.diagnoses.map(({ key: _k, ...rest }) => rest),
  prescriptions: d.prescriptions.map(({ key: _k, ...rest }) => rest),
});

describe('the report being written, as its draft', () => {
  it('comes back as it was, its lines numbered afresh', () => {
    const back = reportDraftFrom(reportDraftOf(draft))!;
    expect(unkeyed(back as typeof draft)).toEqual(unkeyed(draft));
    // Keys the editor gives its lines (the draft keeps none): each line its own.
    expect(back.diagnoses[0]!.key).not.toBe(back.prescriptions[0]!.key);
    expect(JSON.parse(reportDraftOf(draft)).diagnoses[0]).not.toHaveProperty('key');
  });

  it('restores nothing the editor would not have written', () => {
    expect(reportDraftFrom('not json')).toBeUndefined();
    expect(reportDraftFrom(JSON.stringify({ ...JSON.parse(reportDraftOf(draft)), version: 2 }))).toBeUndefined();
    const badUnit = JSON.parse(reportDraftOf(draft)) as { prescriptions: { periodUnit: string }[] };
    badUnit.prescriptions[0]!.periodUnit = 'year';
    expect(reportDraftFrom(JSON.stringify(badUnit))).toBeUndefined();
  });
});
