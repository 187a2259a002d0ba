import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONSULT_STATUS_SENDER,
  CONSULT_STATUS_UPDATES,
  TASK_STATUS_OF,
  canTransition,
  isTerminal,
} from './consult-status.ts';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

describe('consult lifecycle', () => {
  it('lets the expert answer a request and the applicant cancel it', () => {
    expect(
      ['accepted', 'declined', 'redirected', 'more-information-needed', 'cancelled', 'completed'].every((to) =>
        canTransition('requested', to as never),
      ),
    ).toBe(true);
    expect(canTransition('requested', 'information-provided')).toBe(false);
  });

  it('needs a question before an answer, and allows nothing after a final state', () => {
    expect(canTransition('accepted', 'information-provided')).toBe(false);
    expect(canTransition('more-information-needed', 'information-provided')).toBe(true);
    expect(canTransition('information-provided', 'completed')).toBe(true);
    for (const final of ['declined', 'redirected', 'cancelled', 'completed'] as const) {
      expect(isTerminal(final)).toBe(true);
      expect(CONSULT_STATUS_UPDATES.some((to) => canTransition(final, to))).toBe(false);
    }
    expect(isTerminal('accepted')).toBe(false);
  });

  it.each(CONSULT_STATUS_UPDATES)('documents who sends %s and its FHIR Task.status', (status) => {
    const party = CONSULT_STATUS_SENDER[status];
    expect(doc).toMatch(new RegExp(`\\| \`${status}\` \\| ${party}[^|]* \\| \`${TASK_STATUS_OF[status]}\``));
  });
});
