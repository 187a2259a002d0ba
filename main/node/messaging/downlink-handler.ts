import type { Bundle } from '@medplum/fhirtypes';
import type { TrustConfig } from '../../../shared/cms/index.ts';
import {
  HUB_SENDER,
  crlOfUnopenedNotice,
  openMessage,
  MESSAGE_TYPE_SPECS,
  PROTOCOL_VERSION,
  failureClass,
  REASON_DESCRIPTIONS,
  type ApplicationProperties,
  type PropertiesOf,
  type AmqpMessageFields,
  type MessageMetadata,
  type Rejection,
  type ReasonCode,
} from '../../../shared/protocol/index.ts';
import {
  buildReceipt,
  buildSnapshotRequest,
  HUB_VALIDATED_TYPES,
  readHubNotice,
  validatePayload,
  validatePayloadWith,
} from '../../../shared/protocol/fhir/index.ts';
import type { BaseFhirValidator } from '../../../shared-node/index.ts';
import { bodyBytes, type HandlerResult, type ReceivedMessage, type StoredMessage } from '../../../transport/index.ts';
import type { ConsultService, LocalPractitioners } from '../consult/consult-service.ts';
import type { DirectoryMirror, SnapshotProgress } from '../directory/directory-mirror.ts';
import type { DirectorySync, RefusedEntry } from '../directory/directory-sync.ts';
import type { CrlOutcome } from '../identity/practitioner-identity.ts';
import type { Registration } from './registration.ts';

/**
 * Everything that arrives on this workstation's downlink: opened with every check of docs/protocol.md §3–4 (the hub's
 * certificate for hub messages, the sending practitioner's from the directory for consults), then handed to the part
 * that owns it. A message that fails is refused with its reason (the inbox keeps it as a dead letter), shown in its
 * case when the case is known, and answered with a `rejected` receipt so that the sender sees it too.
 */

export interface DownlinkHandlerOptions {
  /** Who this endpoint acts for; a consult message is opened with its addressee's keys (the envelope names which). */
  readonly local: LocalPractitioners;
  readonly trust: () => TrustConfig;
  readonly hubCertificate: () => Uint8Array | undefined;
  readonly consult: ConsultService;
  readonly sync: DirectorySync;
  readonly mirror: DirectoryMirror;
  readonly registration: Registration;
  /**
   * Base FHIR R4 validation of the payloads that need it, off the main thread (shared-node's worker); none: in line.
   * The verdict is the same either way.
   */
  readonly baseFhir?: Pick<BaseFhirValidator, 'validate'>;
  /**
   * Seals a message of this endpoint: signed by the local practitioner `signAs`, or without it by the endpoint's own
   * signer (a workstation's practitioner, a connector's clinic system).
   */
  readonly seal: (input: {
    properties: ApplicationProperties;
    payload: (messageId: string, timestamp: Date) => Bundle;
    correlationId?: string;
    signAs?: string;
  }) => Promise<StoredMessage>;
  readonly enqueue: (message: StoredMessage, orderKey: string) => void;
  /** Runs after the inbox transaction that made a change durable: events for the UI. */
  readonly afterCommit: (notify: () => void) => void;
  readonly onSnapshotProgress: (progress: SnapshotProgress) => void;
  readonly onDirectoryChanged: (refused: readonly RefusedEntry[]) => void;
  readonly onBehind: (behind: boolean) => void;
  readonly onCaseChanged: (caseId: string, isNew: boolean) => void;
  readonly onNotice: (notice: string, text: string) => void;
  /** Applies a CRL that came with a `crl-updated` notice (practitioner-identity's applyCrl). */
  readonly applyCrl: (der: Uint8Array) => Promise<CrlOutcome>;
  /**
   * What became of a notice's CRL, in words for the audit log (never patient data): a CRL applied is reported at once
   * (it is in effect whatever becomes of the notice), anything else after the notice is committed.
   */
  readonly onCrl: (outcome: CrlOutcome, detail: string) => void;
  /**
   * A receipt about a message of this endpoint that is neither its registration nor a consult message (a connector's
   * directory publish); runs inside the inbox transaction. Returns whether it knew the message.
   */
  readonly onOtherReceipt?: (
    about: string,
    outcome: 'delivered' | 'processed' | 'rejected',
    reason: ReasonCode | undefined,
    text: string | undefined,
  ) => boolean;
  readonly now?: () => Date;
}

const RECEIPTS_ORDER_KEY = 'receipts';

export function createDownlinkHandler(
  options: DownlinkHandlerOptions,
): (message: ReceivedMessage) => Promise<HandlerResult> {
  const { consult, baseFhir } = options;
  const now = options.now ?? (() => new Date());
  // A gap asks for one snapshot, not one per update that arrives while it is on its way.
  let snapshotRequested = false;

  /**
   * A receipt about a consult message is signed by its addressee when that is one of ours: a peer workstation accepts
   * only the practitioner's signature (docs/protocol.md §3); anything else is signed by the endpoint's own signer.
   */
  async function receipt(
    to: string,
    about: string,
    outcome: 'processed' | 'rejected',
    reason?: { code: ReasonCode; detail: string },
    signAs?: string,
  ): Promise<StoredMessage> {
    const endpointId = options.local.endpointId();
    return options.seal({
      ...(signAs !== undefined && options.local.has(signAs) && { signAs }),
      properties: {
        rtsType: 'receipt',
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: endpointId,
        rtsReceipt: outcome,
        rtsToEndpoint: to,
        ...(reason && { rtsReason: reason.code }),
      },
      payload: (messageId, timestamp) =>
        buildReceipt(
          { messageId, timestamp, sender: endpointId },
          {
            toEndpoint: to,
            originalMessageId: about,
            outcome,
            ...(reason && {
              reasons: [
                { code: reason.code, text: `${REASON_DESCRIPTIONS[reason.code]} ${reason.detail}`.slice(0, 1000) },
              ],
            }),
          },
        ),
      correlationId: about,
    });
  }

  function expectedSigners(metadata: MessageMetadata): readonly Uint8Array[] | undefined {
    const props = metadata.properties;
    if (props.rtsSender === HUB_SENDER) {
      const hub = options.hubCertificate();
      return hub ? [hub] : undefined;
    }
    if ('rtsFromPractitioner' in props) return consult.expectedSigners(props.rtsFromPractitioner);
    if (props.rtsType === 'receipt') return consult.receiptSigners(metadata.correlationId);
    return undefined;
  }

  async function refuse(error: Rejection): Promise<HandlerResult> {
    const props = error.metadata?.properties;
    const messageId = error.metadata?.messageId;
    // No receipt about receipts (no loops), nor to the hub, nor without a readable sender.
    const answer =
      props && messageId && props.rtsType !== 'receipt' && props.rtsSender !== HUB_SENDER
        ? await receipt(
            props.rtsSender,
            messageId,
            'rejected',
            { code: error.code, detail: error.detail },
            'rtsToPractitioner' in props ? props.rtsToPractitioner : undefined,
          )
        : undefined;
    // The receipt says only what may travel; this workstation's own records keep the precise reason.
    const local = error.withheld ?? error;
    return {
      outcome: 'rejected',
      reason: local.code,
      detail: local.detail,
      effect: () => {
        if (answer) options.enqueue(answer, RECEIPTS_ORDER_KEY);
        if (
          props &&
          messageId &&
          'rtsCase' in props &&
          consult.recordRefused({
            messageId,
            caseId: props.rtsCase,
            type: props.rtsType,
            sequence: props.rtsSequence,
            reason: local.code,
            detail: local.detail,
          })
        )
          afterCommit(() => options.onCaseChanged(props.rtsCase, false));
      },
    };
  }

  // What an effect announces waits for its commit: a batch that fails to commit must not announce a case it never stored.
  let notices: (() => void)[] | undefined;
  const afterCommit = (notify: () => void) => (notices ? notices.push(notify) : options.afterCommit(notify));

  /** The result with its effect's announcements held back until the inbox has committed the effect. */
  function announcedAfterCommit(result: HandlerResult): HandlerResult {
    if (result.outcome === 'waiting' || !result.effect) return result;
    const { effect } = result;
    let announced: (() => void)[] = [];
    return {
      ...result,
      effect: () => {
        notices = announced = [];
        try {
          effect();
        } finally {
          notices = undefined;
        }
      },
      afterCommit: () => announced.forEach((notify) => options.afterCommit(notify)),
    };
  }

  return async (received) => announcedAfterCommit(await handleMessage(received));

  async function handleMessage(received: ReceivedMessage): Promise<HandlerResult> {
    const fields = { ...received.amqp, body: bodyBytes(received.amqp.body) } as unknown as AmqpMessageFields;
    const endpointId = options.local.endpointId();
    // A crl-updated notice's CRL is taken before the notice is opened: with this workstation's CRL stale, opening would
    // hold back the very notice that replaces it, for good (docs/protocol.md §5.3). The CRL proves itself (applyCrl
    // verifies it against this workstation's anchors and takes only a newer one); the notice is then opened and judged
    // as any other, with the new CRL.
    const unopenedCrl = crlOfUnopenedNotice(fields);
    const early = unopenedCrl ? await crlOutcome(unopenedCrl) : undefined;
    if (early?.outcome === 'applied') options.onCrl(early.outcome, early.detail);
    // The addressee's keys are loaded before opening (recipientFor is synchronous); the codec checks the property again.
    const addressee = (fields.application_properties as Record<string, unknown> | undefined)?.rtsToPractitioner;
    const identity =
      typeof addressee === 'string' && options.local.has(addressee)
        ? await options.local.recipients(addressee)
        : undefined;
    const opened = await openMessage(fields, {
      trust: options.trust(),
      now: now(),
      recipientFor: (m) =>
        'rtsToPractitioner' in m.properties && m.properties.rtsToPractitioner === addressee ? identity : undefined,
      expectedSigners,
      // Validation follows the signer check: a message from the hub sender has been verified as the hub's (§4).
      validate: (content, metadata) => {
        consult.keepAhead(metadata, fields.body as Uint8Array);
        const hubValidated =
          metadata.properties.rtsSender === HUB_SENDER && HUB_VALIDATED_TYPES.has(metadata.properties.rtsType);
        return baseFhir && !hubValidated
          ? validatePayloadWith(content, metadata, (resource) => baseFhir.validate(resource))
          : validatePayload(content, metadata, { baseFhir: !hubValidated });
      },
    });
    // A transient reason (this workstation's own CRL missing or stale) is no fault of the message: it waits (parked by
    // the inbox) instead of being refused, until the region's current CRL arrives (a crl-updated notice) or the user
    // loads it, and is then handled again from the start.
    if (!opened.ok && failureClass(opened.error.code) === 'transient')
      return { outcome: 'waiting', reason: opened.error.code, detail: opened.error.detail };
    if (!opened.ok) return refuse(opened.error);
    const { metadata, payload } = opened.value;
    const props = metadata.properties;
    if (MESSAGE_TYPE_SPECS[props.rtsType].from === 'hub' && props.rtsSender !== HUB_SENDER) {
      return refuse({ code: 'not-authorized', detail: `only the hub sends ${props.rtsType}`, metadata });
    }

    switch (props.rtsType) {
      case 'directory.snapshot': {
        if (props.rtsToEndpoint !== endpointId)
          return refuse({ code: 'not-addressed-to-me', detail: `snapshot for ${props.rtsToEndpoint}`, metadata });
        const prepared = await options.sync.prepareSnapshotBatch(props, payload);
        return {
          outcome: 'processed',
          effect: () => {
            const progress = prepared.apply();
            if (progress.complete) snapshotRequested = false;
            afterCommit(() => {
              options.onSnapshotProgress(progress);
              if (progress.complete) {
                options.onBehind(false);
                options.onDirectoryChanged(prepared.refused);
              }
            });
          },
        };
      }
      case 'directory.update': {
        const prepared = await options.sync.prepareUpdate(props, payload);
        const current = options.mirror.version();
        // Seal the request now (signing is asynchronous); it is queued only if the update turns out to leave a gap.
        const request =
          !snapshotRequested &&
          current !== props.rtsDirectoryBaseVersion &&
          (current === undefined || props.rtsDirectoryVersion > current)
            ? await snapshotRequest(current)
            : undefined;
        return {
          outcome: 'processed',
          effect: () => {
            const outcome = prepared.apply();
            if (outcome === 'gap' && request) {
              options.enqueue(request, 'directory');
              snapshotRequested = true;
            }
            afterCommit(() => {
              if (outcome === 'applied') options.onDirectoryChanged(prepared.refused);
              if (outcome === 'gap') options.onBehind(true);
            });
          },
        };
      }
      case 'hub.notice': {
        const notice = readHubNotice(payload as unknown as Bundle);
        // The CRL is judged against this workstation's own anchors (the hub's signature only says who sent it): an older
        // one or one of another CA changes nothing, and no outcome refuses or holds back the notice. Read before opening
        // (`early`), it is the content just verified; an applied one was reported then.
        const crl = props.rtsNotice !== 'crl-updated' ? undefined : (early ?? (await crlOutcome(notice.crl)));
        return {
          outcome: 'processed',
          effect: () => {
            if (props.rtsNotice === 'registration-accepted') options.registration.accepted();
            // The hub's answer to a snapshot request at the current version: no snapshot follows, so the next gap asks again.
            if (props.rtsNotice === 'directory-up-to-date') snapshotRequested = false;
            afterCommit(() => {
              if (crl && !(crl === early && crl.outcome === 'applied')) options.onCrl(crl.outcome, crl.detail);
              options.onNotice(props.rtsNotice, notice.text);
            });
          },
        };
      }
      case 'receipt': {
        const about = metadata.correlationId;
        if (!about) return refuse({ code: 'missing-property', detail: 'a receipt needs correlation_id', metadata });
        const issue = ((
          payload.entry as { resource: { resourceType: string; issue?: { details?: { text?: string } }[] } }[]
        ).find((e) => e.resource.resourceType === 'OperationOutcome')?.resource.issue ?? [])[0];
        return {
          outcome: 'processed',
          effect: () => {
            if (options.registration.isRegistration(about)) {
              if (props.rtsReceipt === 'rejected')
                options.registration.rejected(`${props.rtsReason ?? 'rejected'}: ${issue?.details?.text ?? ''}`.trim());
              return;
            }
            if (options.onOtherReceipt?.(about, props.rtsReceipt, props.rtsReason, issue?.details?.text)) return;
            const caseId = consult.receipt(about, props.rtsReceipt, props.rtsReason, issue?.details?.text);
            if (caseId) afterCommit(() => options.onCaseChanged(caseId, false));
          },
        };
      }
      case 'consult.request':
      case 'consult.status':
      case 'consult.report': {
        const outcome = await consult.incoming(opened.value, fields.body as Uint8Array, received.batch);
        if (!outcome.ok) return refuse({ code: outcome.reason, detail: outcome.detail, metadata });
        const answer = await receipt(
          props.rtsSender,
          metadata.messageId,
          'processed',
          undefined,
          props.rtsToPractitioner,
        );
        return {
          outcome: 'processed',
          effect: () => {
            outcome.effect();
            options.enqueue(answer, RECEIPTS_ORDER_KEY);
            afterCommit(() => options.onCaseChanged(props.rtsCase, props.rtsType === 'consult.request'));
          },
        };
      }
      default:
        return refuse({ code: 'unknown-type', detail: `${props.rtsType} is not for a workstation`, metadata });
    }
  }

  async function crlOutcome(der: Uint8Array | undefined): Promise<{ outcome: CrlOutcome; detail: string }> {
    if (!der) return { outcome: 'invalid', detail: 'a crl-updated notice without a CRL' };
    const outcome = await options.applyCrl(der);
    const detail = {
      applied: "the region's new CRL is applied",
      held: 'the CRL is the one held here',
      older: 'the CRL is not newer than the one held here; nothing changed',
      invalid: 'the CRL is not signed by a CA of this region (or unreadable); nothing changed',
    }[outcome];
    return { outcome, detail };
  }

  async function snapshotRequest(knownVersion: number | undefined): Promise<StoredMessage> {
    const endpointId = options.local.endpointId();
    return options.seal({
      properties: {
        rtsType: 'directory.snapshot-request',
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: endpointId,
      } satisfies PropertiesOf<'directory.snapshot-request'>,
      payload: (messageId, timestamp) =>
        buildSnapshotRequest(
          { messageId, timestamp, sender: endpointId },
          knownVersion === undefined ? {} : { knownVersion },
        ),
    });
  }
}
