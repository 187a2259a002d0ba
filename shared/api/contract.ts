import { z } from 'zod';
import { COMMANDS, EVENTS, type CommandChannel, type EventChannel } from './channels.ts';
import { connectionStateSchema } from './connection-state.ts';
import {
  caseActionSchema,
  caseBucketSchema,
  caseSortSchema,
  caseSummarySchema,
  caseViewSchema,
  composeConsultSchema,
  inboxRowSchema,
  priorities,
  reportInputSchema,
  requestContentSchema,
  waitingOnSchema,
} from './consult-schemas.ts';
import { BROKER_KINDS } from '../broker/index.ts';
import { endpointIdSchema, directoryIdSchema, uuidSchema } from '../protocol/identifiers.ts';
import { LANGUAGE_CHOICES } from '../i18n/locales.ts';
import { API_ERROR_CODES, API_ERROR_REASONS } from './api-error.ts';

/**
 * Payload schemas of every bridge channel. The main process validates each command's input against them before any
 * handler runs, and re-parses each output so that nothing outside the contract crosses; their inferred types are what
 * the renderer sees.
 */
const noInput = z.undefined();

/** An ApiError kept in a state (the store's or a region switch's problem): a code and reason the renderer words. */
const apiErrorSchema = z.object({
  code: z.enum(Object.values(API_ERROR_CODES) as [(typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES]]),
  reason: z.enum(API_ERROR_REASONS),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  message: z.string(),
  retryable: z.boolean(),
});

export const appInfoSchema = z.object({ productName: z.string(), version: z.string() });
export type AppInfo = z.infer<typeof appInfoSchema>;

const certificateStatusSchema = z.object({
  use: z.enum(['signing', 'encryption', 'hub', 'anchor']),
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  state: z.enum(['valid', 'expiring', 'expired', 'not-yet-valid', 'revoked', 'untrusted']),
  problem: z.string().optional(),
});

// --- Certificates in service (issue 17, item 2b/3): renewal and the region's CRL ---------------------------------------
/**
 * How many earlier encryption certificates keep their keys for older cases, which uses have a key request waiting, and
 * which signing certificate signs while a renewed one waits to be listed in the directory.
 */
const renewalStatusShape = {
  earlierEncryptionCertificates: z.number().int().min(0),
  pendingRequests: z.array(z.enum(['signing', 'encryption'])),
  /** An earlier signing certificate that still signs: the directory does not list the renewed one yet. */
  signingInUse: z.object({ serialNumber: z.string(), notAfter: z.string() }).optional(),
};
/** The region's CRL held here: `expiring` within 72 hours of its nextUpdate, `stale` past it. */
const crlStateSchema = z.enum(['current', 'expiring', 'stale']);
// -----------------------------------------------------------------------------------------------------------------------

export const profileSchema = z.object({
  hosts: z
    .array(z.object({ host: z.string().min(1).max(253), port: z.number().int().min(1).max(65_535) }))
    .min(1)
    .max(10),
  vhost: z.string().min(1).max(100),
  /** The region's broker (absent: RabbitMQ), from the enrolment file. */
  brokerKind: z.enum(BROKER_KINDS).optional(),
  endpointId: endpointIdSchema,
  tls: z.object({ caPem: z.string().min(1).max(100_000), servername: z.string().max(253).optional() }).optional(),
  /** The embedded single-machine demo region (invented people): the app labels every screen with it. */
  demo: z.boolean().optional(),
});

/** An enrolment file as the user checks it before joining: above all the region CA's fingerprint. */
export const enrolmentSummarySchema = z.object({
  region: z.string(),
  endpointId: endpointIdSchema,
  brokerKind: z.enum(BROKER_KINDS),
  brokerHosts: z.array(z.object({ host: z.string(), port: z.number().int() })),
  /** RabbitMQ's virtual host (Artemis has none: the name then only goes into the open frame, which it ignores). */
  vhost: z.string(),
  tls: z.boolean(),
  tlsServerName: z.string().optional(),
  caSubject: z.string(),
  /** SHA-256, upper-case hex pairs joined by colons (as `openssl x509 -fingerprint -sha256` prints it). */
  caFingerprint: z.string(),
  hubSubject: z.string(),
  crlNextUpdate: z.string().optional(),
  issuedAt: z.string(),
  /** The workstation already trusts this CA: applying the file replaces the region's trust with the file's. */
  replacesTrust: z.boolean(),
});
export type EnrolmentSummary = z.infer<typeof enrolmentSummarySchema>;

/** The `.rtsenrol` file's bytes; a few certificates and a CRL. */
const enrolmentFileBase64 = z.string().min(1).max(10_000_000);

export const setupStateSchema = z.object({
  /** The store cannot be opened (keychain missing or changed): nothing else works until this is fixed. */
  storeProblem: apiErrorSchema.optional(),
  profile: profileSchema.optional(),
  hasBrokerPassword: z.boolean(),
  identity: z
    .object({
      practitionerId: z.string().optional(),
      certificates: z.array(certificateStatusSchema),
      ...renewalStatusShape,
      trust: z.object({
        anchors: z.array(certificateStatusSchema),
        hub: certificateStatusSchema.optional(),
        crlNextUpdate: z.string().optional(),
        crlState: crlStateSchema.optional(),
      }),
      ready: z.boolean(),
    })
    .optional(),
  registration: z.object({
    state: z.enum(['none', 'requested', 'accepted', 'rejected']),
    reason: z.string().optional(),
  }),
  /** Messages kept at the workstation until its revocation list is current again (none: absent). */
  waitingForCrl: z.number().int().positive().optional(),
  ui: z.object({
    /** `system`: the OS's language where the product has it (shared/i18n/locales.ts). */
    language: z.enum(LANGUAGE_CHOICES),
    theme: z.string(),
    lockAfterMinutes: z.number(),
    escalateAfterMinutes: z.number(),
  }),
  locked: z.boolean(),
  /** Known without the keychain; true also while it cannot be known (the safe answer). */
  hasLockPassphrase: z.boolean(),
  /** The region's or clinic's rule: `required` refuses patient data and set-up until a passphrase is set; absent: not chosen yet (optional). */
  lockPolicy: z.enum(['required', 'optional']).optional(),
});
export type SetupState = z.infer<typeof setupStateSchema>;

/**
 * Which region the workstation works in: the user's own (set up on first run) or the embedded demo region, each with
 * its own store and keychain entries so that neither ever sees the other's cases or keys.
 */
export const regionChoiceSchema = z.enum(['own', 'demo']);
export type RegionChoice = z.infer<typeof regionChoiceSchema>;
export const regionStateSchema = z.object({
  active: regionChoiceSchema,
  /** A checkout of the project can run the demo region; a packaged app cannot. */
  demoAvailable: z.boolean(),
  /** Between regions: the previous one is closed, the next one is opening. */
  switching: z.boolean(),
  /** Why the last switch failed: a code and reason the renderer words (its English message for the log). */
  problem: apiErrorSchema.optional(),
});
export type RegionState = z.infer<typeof regionStateSchema>;

export const directoryStateSchema = z.object({
  version: z.number().int().optional(),
  experts: z.number().int(),
  /** When the mirror last changed. */
  appliedAt: z.string().optional(),
  /** The mirror is as of this moment: now while online, the moment the connection was lost otherwise. */
  asOf: z.string().optional(),
  snapshot: z.object({ version: z.number().int(), received: z.number().int(), count: z.number().int() }).optional(),
  /** Waiting for a snapshot after a gap in directory versions. */
  behind: z.boolean(),
  refused: z.array(z.object({ practitionerId: z.string(), reason: z.string() })),
  /** Listed experts whose certificates the background check has not judged yet (under the current CRL). */
  certificatesUnchecked: z.number().int().optional(),
  /** When the background check last recorded verdicts: the experts' marks changed then. */
  certificatesCheckedAt: z.string().optional(),
});
export type DirectoryState = z.infer<typeof directoryStateSchema>;

export const expertSummarySchema = z.object({
  practitionerId: z.string(),
  name: z.string(),
  specialties: z.string(),
  organization: z.string(),
  city: z.string(),
  languages: z.string(),
  /**
   * Entries of other clinics with the same name and hospital name: one of them may be an impostor (a clinic publishing
   * someone else's expert under its own id). The UI marks such rows and says which clinic published each.
   */
  lookAlikes: z.array(z.string()).optional(),
  /**
   * Absent once this workstation found the expert's certificates valid under its CA and current CRL. `unchecked`: not
   * judged yet (they are judged in the background, and always before a consult is encrypted to them or their signature
   * is trusted); `failed`: `certificateProblem` says why no consult can go to them.
   */
  certificates: z.enum(['unchecked', 'failed']).optional(),
  certificateProblem: z.string().optional(),
});

const facetCount = { experts: z.number().int() };
export const directoryFacetsSchema = z.object({
  specialties: z.array(z.object({ value: z.string(), ...facetCount })),
  /** Language codes as the directory lists them. */
  languages: z.array(z.object({ value: z.string(), ...facetCount })),
  /** Hospitals by Organization id; without `name` when the directory lacks the Organization's name. */
  hospitals: z.array(z.object({ id: z.string(), name: z.string().optional(), ...facetCount })),
  /** Places the hospitals' addresses name: county or state, district, city (the region filter). */
  regions: z.array(z.object({ name: z.string(), kind: z.enum(['state', 'district', 'city']), ...facetCount })),
});
export type DirectoryFacets = z.infer<typeof directoryFacetsSchema>;

export const expertDetailSchema = z.object({
  practitionerId: directoryIdSchema,
  name: z.string(),
  specialties: z.array(z.string()),
  organization: z.string().optional(),
  city: z.string().optional(),
  languages: z.array(z.string()),
  endpoints: z.array(z.string()),
  certificates: z.array(certificateStatusSchema),
  /** The clinic (endpoint id) that published this entry: the part of the directory id before the dot. */
  publisher: z.string(),
  /** As in the search results; empty when there are none. */
  lookAlikes: z.array(z.string()),
});
export type ExpertDetail = z.infer<typeof expertDetailSchema>;

const outboxStateSchema = z.object({
  pending: z.number().int(),
  inFlight: z.number().int(),
  failed: z.number().int(),
  /** The consult messages still queued (the first 100), oldest first; a request alone in its case can be withdrawn. */
  waiting: z.array(
    z.object({
      messageId: z.string(),
      type: z.string(),
      caseId: z.string(),
      at: z.string(),
      withdrawable: z.boolean(),
    }),
  ),
  failures: z.array(
    z.object({
      messageId: z.string(),
      type: z.string(),
      caseId: z.string().optional(),
      reason: z.string(),
      at: z.string(),
    }),
  ),
});

const rejectionSchema = z.object({
  id: z.number().int(),
  messageId: z.string(),
  type: z.string().optional(),
  sender: z.string().optional(),
  caseId: z.string().optional(),
  reason: z.string(),
  detail: z.string(),
  receivedAt: z.string(),
});

const auditCheckSchema = z.union([
  z.object({ ok: z.literal(true), entries: z.number().int(), head: z.string() }),
  z.object({ ok: z.literal(false), entries: z.number().int(), firstBadSeq: z.number().int(), problem: z.string() }),
]);

/** One page of the audit log, newest first; the viewer asks for the page before the oldest entry it shows. */
const auditPageSchema = z.object({
  total: z.number().int(),
  entries: z.array(
    z.object({
      seq: z.number().int(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      subject: z.string(),
      detail: z.string(),
    }),
  ),
});

/**
 * The drafts a user keeps: the request being written (its typed fields, and apart from them its files and recordings,
 * which are saved only when they change) and a report per case.
 */
export const draftKeySchema = z
  .string()
  .regex(/^(compose|compose-files|report:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/);
export type DraftKey = z.infer<typeof draftKeySchema>;
/** A request's files (16 MB, as base64) and twenty recordings of 500,000 samples each, as JSON, with room to spare. */
const MAX_DRAFT_CHARS = 200_000_000;

const passphrase = z.string().min(8).max(1_000);

export const commandContract = {
  [COMMANDS.getAppInfo]: { input: noInput, output: appInfoSchema },
  [COMMANDS.getConnectionState]: { input: noInput, output: connectionStateSchema },
  [COMMANDS.getSetupState]: { input: noInput, output: setupStateSchema },
  [COMMANDS.setProfile]: {
    input: z.object({ profile: profileSchema, brokerPassword: z.string().min(1).max(1_000).optional() }),
    output: setupStateSchema,
  },
  /** Verifies an enrolment file and says what it holds; changes nothing. */
  [COMMANDS.readEnrolment]: {
    input: z.object({ enrolmentBase64: enrolmentFileBase64 }),
    output: enrolmentSummarySchema,
  },
  /** Verifies the file again and applies it: the region's trust, the connection profile, and the broker password if given. */
  [COMMANDS.enrol]: {
    input: z.object({ enrolmentBase64: enrolmentFileBase64, brokerPassword: z.string().min(1).max(1_000).optional() }),
    output: setupStateSchema,
  },
  [COMMANDS.setUiPreferences]: {
    input: z.object({
      language: z.enum(LANGUAGE_CHOICES).optional(),
      theme: z.enum(['system', 'light', 'dark']).optional(),
      lockAfterMinutes: z.number().int().min(1).max(240).optional(),
      escalateAfterMinutes: z.number().int().min(1).max(240).optional(),
    }),
    output: setupStateSchema,
  },
  [COMMANDS.setTrust]: {
    input: z.object({
      anchorsPem: z.string().min(1).max(1_000_000),
      crlsPem: z.string().max(10_000_000).optional(),
      hubCertificatePem: z.string().min(1).max(100_000),
    }),
    output: setupStateSchema,
  },
  [COMMANDS.importPkcs12]: {
    input: z.object({
      use: z.enum(['signing', 'encryption']),
      pkcs12Base64: z.string().min(1).max(1_000_000),
      password: z.string().max(1_000),
    }),
    output: setupStateSchema,
  },
  [COMMANDS.createCertificateRequest]: {
    input: z.object({
      use: z.enum(['signing', 'encryption']),
      practitionerId: directoryIdSchema,
      organization: z.string().max(200).optional(),
    }),
    output: z.object({ requestPem: z.string() }),
  },
  [COMMANDS.importCertificate]: {
    input: z.object({ use: z.enum(['signing', 'encryption']), certificatePem: z.string().min(1).max(100_000) }),
    output: setupStateSchema,
  },
  [COMMANDS.getDirectoryState]: { input: noInput, output: directoryStateSchema },
  /**
   * Words of any field, and the chosen specialty, language, hospital and region, each only in its own field; `offset`
   * pages through the matches after filtering, and `more` says whether there are matches after this page.
   */
  [COMMANDS.searchDirectory]: {
    input: z.object({
      text: z.string().max(200),
      specialty: z.string().max(200).optional(),
      /** A language code as the directory lists it (BCP 47: at most 35 characters), e.g. `nb`. */
      language: z.string().max(35).optional(),
      /** A hospital's Organization id, e.g. `clinic-a.nordby` (directoryFacets lists them). */
      organization: z.string().max(200).optional(),
      /** A place the hospital's address names as its county/state, district or city, e.g. `Bergen`. */
      region: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(500).optional(),
      offset: z.number().int().min(0).max(1_000_000).optional(),
    }),
    output: z.object({ experts: z.array(expertSummarySchema), more: z.boolean() }),
  },
  /** What the directory's filters can choose, each with how many experts the directory lists with it now. */
  [COMMANDS.directoryFacets]: { input: noInput, output: directoryFacetsSchema },
  [COMMANDS.getExpert]: { input: z.object({ practitionerId: directoryIdSchema }), output: expertDetailSchema },
  /**
   * A page of the inbox: one tab (`bucket`), narrowed by urgency, by whom a case waits on and by words (matched as
   * prefixes against patient, reason, diagnosis and people), in the chosen order (default: escalated, unread, most
   * urgent, newest).
   */
  [COMMANDS.listCases]: {
    input: z
      .object({
        bucket: caseBucketSchema.optional(),
        priorities: z.array(z.enum(priorities)).max(4).optional(),
        waitingOn: waitingOnSchema.optional(),
        query: z.string().max(200).optional(),
        sort: caseSortSchema.optional(),
        offset: z.number().int().min(0).optional(),
        limit: z.number().int().min(1).max(100_000).optional(),
      })
      .optional(),
    output: z.array(inboxRowSchema),
  },
  /** Cases per inbox tab, and how many urgent requests wait longer than the user's escalation time to be accepted. */
  [COMMANDS.countCases]: {
    input: noInput,
    output: z.object({
      new: z.number().int(),
      progress: z.number().int(),
      waiting: z.number().int(),
      done: z.number().int(),
      escalated: z.number().int(),
    }),
  },
  [COMMANDS.openCase]: { input: z.object({ caseId: uuidSchema }), output: caseViewSchema },
  [COMMANDS.createConsult]: { input: composeConsultSchema, output: caseSummarySchema },
  [COMMANDS.actOnCase]: { input: caseActionSchema, output: caseSummarySchema },
  /** Signing is a medical act: with a lock passphrase set, the report is signed only with the passphrase entered again. */
  [COMMANDS.sendReport]: {
    input: reportInputSchema.extend({ passphrase: z.string().max(1_000).optional() }),
    output: caseSummarySchema,
  },
  /** The user printed or saved a case as PDF: the audit log says who and when. */
  [COMMANDS.recordExport]: {
    input: z.object({ caseId: uuidSchema, form: z.enum(['print', 'pdf']) }),
    output: z.object({ recorded: z.literal(true) }),
  },
  /**
   * Patients of the user's own cases whose name has a word starting with each word of `text` (the same person, as far
   * as name, birth date and sex tell, once), most recently seen first, each with the case seen last.
   */
  [COMMANDS.findPatients]: {
    input: z.object({ text: z.string().max(200), limit: z.number().int().min(1).max(50).optional() }),
    output: z.array(
      z.object({
        caseId: uuidSchema,
        name: z.string(),
        birthDate: z.string().optional(),
        gender: z.string().optional(),
        seenAt: z.string(),
        cases: z.number().int().min(1),
      }),
    ),
  },
  /**
   * The request that began a case, as the compose form takes it (without an expert): to ask again about the same
   * patient, or to send a redirected case on to the suggested expert. Audited as reading the case.
   */
  [COMMANDS.getRequestContent]: {
    /** `patient`: the patient only (no files or readings cross the bridge); `request` (default): all of it. */
    input: z.object({ caseId: uuidSchema, take: z.enum(['patient', 'request']).optional() }),
    output: requestContentSchema,
  },
  /** What the user was writing and has not sent, kept in the encrypted store (the renderer's own form, as JSON). */
  [COMMANDS.getDraft]: {
    input: z.object({ key: draftKeySchema }),
    output: z.object({ body: z.string().optional(), savedAt: z.string().optional() }),
  },
  [COMMANDS.saveDraft]: {
    input: z.object({ key: draftKeySchema, body: z.string().max(MAX_DRAFT_CHARS) }),
    output: z.object({ savedAt: z.string() }),
  },
  [COMMANDS.discardDraft]: {
    input: z.object({ key: draftKeySchema }),
    output: z.object({ discarded: z.boolean() }),
  },
  /**
   * One file of a case saved where the user chooses in the system's save dialog: the request's (no messageId) or a
   * message's, by its place in the list. The core reads the bytes from the stored message, never from the page.
   */
  [COMMANDS.saveAttachment]: {
    input: z.object({ caseId: uuidSchema, messageId: uuidSchema.optional(), index: z.number().int().min(0).max(19) }),
    output: z.discriminatedUnion('saved', [
      z.object({ saved: z.literal(true), folder: z.string(), fileName: z.string() }),
      /** The user cancelled the dialog. */
      z.object({ saved: z.literal(false) }),
    ]),
  },
  [COMMANDS.getOutboxState]: { input: noInput, output: outboxStateSchema },
  /**
   * Takes back a request not yet sent: its case is cancelled here (the expert never heard of it) and can be edited and
   * sent again. Refused (`conflict`) once it is being sent or was sent.
   */
  [COMMANDS.withdrawMessage]: { input: z.object({ messageId: uuidSchema }), output: outboxStateSchema },
  [COMMANDS.listRejections]: { input: noInput, output: z.array(rejectionSchema) },
  [COMMANDS.checkAuditLog]: { input: noInput, output: auditCheckSchema },
  [COMMANDS.listAuditLog]: {
    input: z.object({
      beforeSeq: z.number().int().min(1).optional(),
      limit: z.number().int().min(1).max(200).optional(),
    }),
    output: auditPageSchema,
  },
  [COMMANDS.lock]: { input: noInput, output: z.object({ locked: z.boolean() }) },
  [COMMANDS.unlock]: {
    input: z.object({ passphrase: z.string().max(1_000) }),
    output: z.object({ locked: z.boolean() }),
  },
  [COMMANDS.setLockPassphrase]: {
    input: z.object({ passphrase, current: z.string().max(1_000).optional() }),
    output: z.object({ locked: z.boolean() }),
  },
  /** Turning a required lock off needs the current passphrase; turning it on never does. */
  [COMMANDS.setLockPolicy]: {
    input: z.object({ policy: z.enum(['required', 'optional']), current: z.string().max(1_000).optional() }),
    output: setupStateSchema,
  },
  [COMMANDS.getRegionState]: { input: noInput, output: regionStateSchema },
  [COMMANDS.switchRegion]: { input: z.object({ to: regionChoiceSchema }), output: regionStateSchema },
} as const satisfies Record<CommandChannel, { input: z.ZodType; output: z.ZodType }>;

export const eventContract = {
  [EVENTS.connectionStateChanged]: connectionStateSchema,
  [EVENTS.setupChanged]: setupStateSchema,
  [EVENTS.directorySyncProgress]: directoryStateSchema,
  [EVENTS.caseChanged]: z.object({ summary: caseSummarySchema, isNew: z.boolean() }),
  /** Urgent requests that have now waited longer than the user's escalation time to be accepted (no patient data). */
  [EVENTS.caseEscalated]: z.object({
    cases: z
      .array(
        z.object({
          caseId: uuidSchema,
          priority: z.enum(priorities),
          waitingSince: z.string().datetime({ offset: true }),
        }),
      )
      .min(1),
  }),
  /** Cases kept before the inbox showed patient and reason now show them: lists read again. */
  [EVENTS.casesDescribed]: z.object({ count: z.number().int().min(1) }),
  [EVENTS.outboxChanged]: outboxStateSchema,
  [EVENTS.lockChanged]: z.object({ locked: z.boolean() }),
  [EVENTS.regionChanged]: regionStateSchema,
  /** The user clicked an OS notification (sent by the Electron shell, not the core): its case, or the inbox. */
  [EVENTS.openRequested]: z.object({ caseId: uuidSchema.optional() }),
} as const satisfies Record<EventChannel, z.ZodType>;

export type CommandInput<C extends CommandChannel> = z.input<(typeof commandContract)[C]['input']>;
export type CommandOutput<C extends CommandChannel> = z.output<(typeof commandContract)[C]['output']>;
export type EventPayload<E extends EventChannel> = z.output<(typeof eventContract)[E]>;
