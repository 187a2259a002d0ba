import type { RtsApi } from '../../preload/rts-api.ts';
import type { Navigate } from '../navigation.ts';

/** The applicant's request: choose the expert, enter the case, attach files and sensor data, send. */
export function ComposeScreen(_props: { api: RtsApi; expertId?: string; navigate: Navigate }) {
  return <section className="panel" aria-label="New consultation"><h2>New consultation</h2></section>;
}
