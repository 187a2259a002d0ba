import { useId, useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useCommand } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { formatDateTime } from './case-format.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * A patient of the user's own cases, found by name, to start a new request from: only this workstation's encrypted
 * store is searched (no registry leaves it). Choosing one hands over the case that named the patient last.
 */
export function PatientPicker({ api, onPick }: { api: RtsApi; onPick: (caseId: string, name: string) => void }) {
  const intl = useIntl();
  const t = useT();
  const id = useId();
  const [text, setText] = useState('');
  const query = text.trim();
  const found = useCommand(api, COMMANDS.findPatients, { text: query, limit: 8 });
  const patients = query ? (found.value ?? []) : [];
  return (
    <div className="patient-picker">
      <label htmlFor={`${id}-search`}>{t('compose.patientPicker.label')}</label>{' '}
      <input
        id={`${id}-search`}
        type="search"
        autoComplete="off"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={t('compose.patientPicker.placeholder')}
        aria-describedby={`${id}-help`}
      />
      <p className="hint" id={`${id}-help`}>
        {t('compose.patientPicker.help')}
      </p>
      <ErrorMessage error={found.error} />
      {query && !found.loading && patients.length === 0 && (
        <p className="hint">{t('compose.patientPicker.none', { query })}</p>
      )}
      {patients.length > 0 && (
        <ul className="expert-results" aria-label={t('compose.patientPicker.found')}>
          {patients.map((p) => (
            <li key={p.caseId}>
              <button type="button" className="secondary" onClick={() => onPick(p.caseId, p.name)}>
                {t('compose.patientPicker.use', { name: p.name })}
              </button>
              <span className="hint">
                {' '}
                {t('compose.patientPicker.facts', {
                  birthDate: p.birthDate || 'none',
                  gender: p.gender || 'none',
                  cases: p.cases,
                  seenAt: formatDateTime(intl, p.seenAt),
                })}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
