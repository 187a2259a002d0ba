import type { RtsApi } from '../../preload/rts-api.ts';
import type { Navigate } from '../navigation.ts';

/** Cases by state (new, in progress, waiting for information, done), unread and urgency first. */
export function InboxScreen(_props: { api: RtsApi; navigate: Navigate }) {
  return <section className="panel" aria-label="Inbox"><h2>Inbox</h2></section>;
}
