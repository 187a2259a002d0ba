import type { RtsApi } from '../../preload/rts-api.ts';
import type { Navigate } from '../navigation.ts';

/** One case, decrypted on open: patient, reason, vitals and waveforms, attachments, signatures, history, actions, report. */
export function CaseScreen(_props: { api: RtsApi; caseId: string; navigate: Navigate }) {
  return <section className="panel" aria-label="Case"><h2>Case</h2></section>;
}
