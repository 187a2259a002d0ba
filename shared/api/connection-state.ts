import { z } from 'zod';
import { API_ERROR_CODES, API_ERROR_REASONS } from './api-error.ts';

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
  /** Why the status is what it is, in words for an administrator (logs, the hub; the broker's own words when it refused). */
  reason: z.string().optional(),
  /**
   * Why the workstation is offline without trying the broker (no region, no password in the keychain, the keychain or
   * the store unavailable), as a code and reason the renderer words in the user's language; absent when the broker's
   * answer is the reason.
   */
  problem: z
    .object({
      code: z.enum(Object.values(API_ERROR_CODES) as [(typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES]]),
      reason: z.enum(API_ERROR_REASONS),
      params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    })
    .optional(),
  /**
   * Not online: since when the region has been out of reach, whatever the retries since (each changes `since`); kept
   * by the workstation's core, so that a screen opened later (after an unlock) counts from the same moment.
   */
  unreachableSince: z.iso.datetime().optional(),
});

export type ConnectionState = z.infer<typeof connectionStateSchema>;
