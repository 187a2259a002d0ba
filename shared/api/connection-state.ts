import { z } from 'zod';

/**
 * The broker connection as the workstation and the hub report it. `degraded` means connected but not fully working
 * (for instance a receiver that stopped receiving); `offline` carries the reason, so the UI can say what to fix.
 */
export const CONNECTION_STATUSES = ['not-configured', 'connecting', 'online', 'degraded', 'offline'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export const connectionStateSchema = z.object({
  status: z.enum(CONNECTION_STATUSES),
  /** ISO 8601 time the status was entered. */
  since: z.iso.datetime(),
  /** `host:port` of the broker in use or being tried. */
  host: z.string().optional(),
  /** Why the status is what it is, in words for an administrator. */
  reason: z.string().optional(),
  /**
   * Not online: since when the region has been out of reach, whatever the retries since (each changes `since`); kept
   * by the workstation's core, so that a screen opened later (after an unlock) counts from the same moment.
   */
  unreachableSince: z.iso.datetime().optional(),
});

export type ConnectionState = z.infer<typeof connectionStateSchema>;
