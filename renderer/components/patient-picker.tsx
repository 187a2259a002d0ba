import { useId, useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useCommand } from '../hooks/use-command.ts';
import { formatDateTime, genderLabel } from './case-format.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * A patient of the user's own cases, found by name, to start a new request from: only this workstation's encrypted
 * store is searched (no registry leaves it). Choosing one hands over the case that named the patient last.
 */
export function PatientPicker({ api, onPick }: { api: RtsApi; onPick: (caseId: string, name: string) => void }) {
  const intl = useIntl();
  const id = useId();
  const [text, setText] = useState('');
  const query = text.trim();
  const found = useCommand(api, COMMANDS.findPatients, { text: query, limit: 8 });
  const patients = query ? (found.value ?? []) : [];
  return (
    <div className="patient-picker">
      <label htmlFor={`${id}-search`}>Patient seen before</label>{' '}
      <input
        id={`${id}-search`}
        type="search"
        autoComplete="off"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="Name, from your own cases"
        aria-describedby={`${id}-help`}
      />
      <p className="hint" id={`${id}-help`}>
        Fills in the patient from your last case about them; only this workstation’s cases are searched.
      </p>
      <ErrorMessage error={found.error} />
      {query && !found.loading && patients.length === 0 && (
        <p className="hint">None of your cases names a patient “{query}”.</p>
      )}
      {patients.length > 0 && (
        <ul className="expert-results" aria-label="Patients of your cases">
          {patients.map((p) => (
            <li key={p.caseId}>
              <button type="button" className="secondary" onClick={() => onPick(p.caseId, p.name)}>
                Use {p.name}
              </button>
              <span className="hint">
                {' '}
                {p.birthDate && `born ${p.birthDate}`}
                {p.gender && `, ${genderLabel(intl, p.gender).toLowerCase()}`} ·{' '}
                {p.cases === 1 ? '1 case' : `${p.cases} cases`}, the last {formatDateTime(intl, p.seenAt)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
