import type { RtsApi } from '../../preload/rts-api.ts';
import type { Navigate } from '../navigation.ts';

/** The expert directory: instant search, filters, a virtualized list, and an expert's details. */
export function DirectoryScreen(_props: { api: RtsApi; navigate: Navigate }) {
  return <section className="panel" aria-label="Directory"><h2>Directory</h2></section>;
}
