/**
 * The message catalogue of the protocol. Every message names its type in the application property `rtsType`.
 *
 * envelope:
 *   signed            CMS SignedData over the FHIR JSON payload (no patient data: the hub reads it)
 *   signed-encrypted  CMS SignedData inside AuthEnvelopedData, encrypted to every recipient and to the sender
 * from: who may send it onto the uplink ('endpoint' = workstation or clinic system), or 'hub' for downlink-only types.
 */
export const MESSAGE_TYPES = {
  endpointRegister: 'endpoint.register',
  directoryPublish: 'directory.publish',
  directorySnapshotRequest: 'directory.snapshot-request',
  directoryUpdate: 'directory.update',
  directorySnapshot: 'directory.snapshot',
  consultRequest: 'consult.request',
  consultStatus: 'consult.status',
  consultReport: 'consult.report',
  receipt: 'receipt',
  hubNotice: 'hub.notice',
} as const;

export type MessageType = (typeof MESSAGE_TYPES)[keyof typeof MESSAGE_TYPES];

/** The rtsSender of the hub's own messages (docs/protocol.md §1): no endpoint may register under it. */
export const HUB_SENDER = 'hub';

export type Envelope = 'signed' | 'signed-encrypted';
export type Origin = 'endpoint' | 'hub' | 'endpoint-or-hub';

export interface MessageTypeSpec {
  readonly envelope: Envelope;
  readonly from: Origin;
  /** Whether the message concerns one consultation case (then `rtsCase` is required). */
  readonly caseScoped: boolean;
  readonly summary: string;
}

export const MESSAGE_TYPE_SPECS: Readonly<Record<MessageType, MessageTypeSpec>> = {
  'endpoint.register': {
    envelope: 'signed',
    from: 'endpoint',
    caseScoped: false,
    summary:
      'A new workstation or clinic system asks to join; the hub provisions its downlink queue and sends a snapshot.',
  },
  'directory.publish': {
    envelope: 'signed',
    from: 'endpoint',
    caseScoped: false,
    summary:
      'A clinic system publishes its experts: the full list (in batches) or a delta of creates, updates and retirements.',
  },
  'directory.snapshot-request': {
    envelope: 'signed',
    from: 'endpoint',
    caseScoped: false,
    summary:
      'An endpoint asks for a full directory snapshot (after joining, or when it sees a gap in directory versions).',
  },
  'directory.update': {
    envelope: 'signed',
    from: 'hub',
    caseScoped: false,
    summary: 'The hub fans out one applied directory change, with the directory version before and after it.',
  },
  'directory.snapshot': {
    envelope: 'signed',
    from: 'hub',
    caseScoped: false,
    summary: 'One numbered batch of a full directory snapshot at one directory version.',
  },
  'consult.request': {
    envelope: 'signed-encrypted',
    from: 'endpoint',
    caseScoped: true,
    summary: 'An applicant sends a case (patient, reason, vitals, waveforms, attachments) to an expert.',
  },
  'consult.status': {
    envelope: 'signed-encrypted',
    from: 'endpoint',
    caseScoped: true,
    summary:
      'A lifecycle step of a case: accepted, declined, more information needed or provided, redirected, cancelled, completed.',
  },
  'consult.report': {
    envelope: 'signed-encrypted',
    from: 'endpoint',
    caseScoped: true,
    summary: "The expert's signed report: findings, diagnosis and prescription lines; completes the case.",
  },
  receipt: {
    envelope: 'signed',
    from: 'endpoint-or-hub',
    caseScoped: false,
    summary: 'Application receipt for one message (correlation_id): delivered, processed, or rejected with reasons.',
  },
  'hub.notice': {
    envelope: 'signed',
    from: 'hub',
    caseScoped: false,
    summary:
      'An operational notice from the hub: registration accepted, maintenance, certificate expiry, and the like.',
  },
};

const messageTypes: ReadonlySet<string> = new Set(Object.values(MESSAGE_TYPES));

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && messageTypes.has(value);
}
