/** Size limits every endpoint and the hub enforce; a larger message is rejected with `too-large`. */
export const PROTOCOL_LIMITS = {
  /** AMQP body (the CMS envelope), bytes. Also the asn1js parse limit. */
  maxBodyBytes: 32 * 1024 * 1024,
  /** Decrypted FHIR JSON payload, bytes. */
  maxPayloadBytes: 24 * 1024 * 1024,
  /** Nesting of arrays and objects in the payload; RTS payloads nest about 10 deep. */
  maxJsonDepth: 64,
  /** Directory entries (PractitionerRoles) in one publish or snapshot batch. */
  maxDirectoryEntriesPerBatch: 1000,
  /** Batches in one full publish or snapshot. */
  maxBatchesPerSet: 10_000,
  /** How long receivers remember processed message ids; older messages are refused as replays. */
  deduplicationWindowDays: 30,
  /** Tolerated clock difference when judging `creation_time` and signing times. */
  clockSkewMinutes: 5,
} as const;
