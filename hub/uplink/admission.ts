import { isCmsError, verify } from '../../shared/cms/index.ts';
import { commonNameOf, describeCertificate } from '../../shared/pki/index.ts';
import { certificatesOf, validatePayload } from '../../shared/protocol/fhir/index.ts';
import {
  PROTOCOL_LIMITS,
  decodeMessage,
  openMessage,
  reasonForCmsError,
  signingTimeProblem,
  MESSAGE_TYPE_SPECS,
  REASON_CODES,
  type MessageMetadata,
  type MessageType,
} from '../../shared/protocol/index.ts';
import { certificateBindingProblem } from '../../shared-node/index.ts';
import * as store from '../store/hub-store.ts';
import { bodyLimitOf } from '../uplink-limits.ts';
import { reject, type Admission, type Hub, type ProcessContext, type UplinkMessage } from './context.ts';

/**
 * Admission of uplink messages: properties and sender (decoded once per message), de-duplication by message_id, and
 * the signers of the messages the hub reads itself (registrations, directory publishes, snapshot requests).
 */

export function admit(hub: Hub, message: UplinkMessage): Admission {
  let admission = hub.admissions.get(message);
  if (!admission) {
    admission = readAdmission(hub, message);
    hub.admissions.set(message, admission);
  }
  return admission;
}

/** Properties, then the sender: the sender the broker vouches for and the uplink routing key must both be rtsSender. */
function readAdmission(hub: Hub, message: UplinkMessage): Admission {
  const decoded = decodeMessage(message.fields, { now: hub.now() });
  if (!decoded.ok) return { ok: false, reason: decoded.error.code, detail: decoded.error.detail };
  const { metadata, body } = decoded.value;
  // Before anything is parsed or verified: a registration or a receipt of megabytes is refused at once.
  const limit = bodyLimitOf(metadata.properties.rtsType);
  if (body.byteLength > limit)
    return {
      ok: false,
      reason: REASON_CODES.tooLarge,
      detail: `body: ${body.byteLength} bytes, limit ${limit} for ${metadata.properties.rtsType}`,
      metadata,
    };
  const sender = metadata.properties.rtsSender;
  const verified = message.verifiedSender;
  const forged = (detail: string): Admission => ({ ok: false, reason: REASON_CODES.forgedSender, detail, metadata });
  if (!verified) return forged('the broker vouched for no sender (no user_id, or not from an uplink address)');
  if (verified !== sender) return forged(`rtsSender ${sender} differs from the broker-verified sender ${verified}`);
  // RabbitMQ refuses such a user_id itself; Artemis does not check it (docs/brokers.md), so the hub refuses it here.
  if (metadata.userId !== undefined && metadata.userId !== verified)
    return forged(`user_id ${metadata.userId} differs from the broker-verified sender ${verified}`);
  if (message.routingKey !== undefined && message.routingKey !== sender)
    return forged(`rtsSender ${sender} differs from the uplink routing key ${message.routingKey}`);
  return { ok: true, metadata, body, messageId: metadata.messageId, sender, type: metadata.properties.rtsType };
}

/** The outcome a message's de-duplication record starts with, before its work is done. */
export const firstOutcome = (type: MessageType): store.ProcessedOutcome =>
  MESSAGE_TYPE_SPECS[type].caseScoped ? 'delivered' : 'processed';

export async function claimAll(hub: Hub, context: ProcessContext, messages: readonly UplinkMessage[]): Promise<void> {
  const admitted = new Map<
    string,
    { messageId: string; sender: string; type: string; outcome: store.ProcessedOutcome }
  >();
  for (const message of messages) {
    const admission = admit(hub, message);
    if (admission.ok && !admitted.has(admission.messageId)) {
      admitted.set(admission.messageId, {
        messageId: admission.messageId,
        sender: admission.sender,
        type: admission.type,
        outcome: firstOutcome(admission.type),
      });
    }
  }
  const won = await store.claimMessages(context.tx, [...admitted.values()], hub.now());
  for (const id of admitted.keys()) context.claims.tried.add(id);
  for (const id of won) context.claims.won.add(id);
}

/** Whether this transaction is the first to see the message: claimed by `claimAll` before, or now. */
export async function claim(
  hub: Hub,
  context: ProcessContext,
  admission: Extract<Admission, { ok: true }>,
): Promise<boolean> {
  const { messageId, sender, type } = admission;
  if (context.claims.tried.delete(messageId)) return context.claims.won.delete(messageId);
  return store.claimMessage(context.tx, { messageId, sender, type, outcome: firstOutcome(type), at: hub.now() });
}

// --- signed messages the hub reads ------------------------------------------------------------------------------------

/** Opens a message signed by one of `expected` (a directory publish, by its clinic system's certificate). */
export async function openSigned(
  hub: Hub,
  message: UplinkMessage,
  expected: readonly Uint8Array[],
): Promise<{ metadata: MessageMetadata; payload: Record<string, unknown> }> {
  const opened = await openMessage(message.fields, {
    trust: hub.trust,
    now: hub.now(),
    recipientFor: () => undefined,
    expectedSigners: () => expected,
    ...(hub.validateFor && { validate: hub.validateFor(message.fields.body as Uint8Array) }),
  });
  if (!opened.ok) return reject(opened.error.code, opened.error.detail);
  return opened.value;
}

/** Verifies a signed message whose signer is judged afterwards, from the certificate: registrations, snapshot requests. */
export async function verifySigned(
  hub: Hub,
  metadata: MessageMetadata,
  body: Uint8Array,
): Promise<{ signer: Uint8Array; payload: Record<string, unknown> }> {
  let verified: { signer: { certificate: Uint8Array }; content: Uint8Array };
  try {
    const at = hub.now();
    verified = await verify(body, hub.trust, {
      now: at,
      maxBytes: PROTOCOL_LIMITS.maxBodyBytes,
      signingTimeProblem: (time) => signingTimeProblem(time, metadata.creationTime, at),
    });
  } catch (error) {
    if (isCmsError(error)) return reject(reasonForCmsError(error.code), error.message);
    throw error;
  }
  const validated = validatePayload(verified.content, metadata);
  if (!validated.ok) return reject(validated.error.code, validated.error.detail);
  return { signer: verified.signer.certificate, payload: validated.value };
}

/** The resource of the payload Bundle's entry at `index` (the payload was validated against its profile). */
export function entryResource<R>(payload: Record<string, unknown>, index: number): R {
  return (payload.entry as { resource: R }[])[index]!.resource;
}

/** A clinic system's (or the hub's) certificate: the TLS-client purpose, which practitioners' certificates lack. */
export function isClinicSystemCertificate(der: Uint8Array): boolean {
  return describeCertificate(der).extendedKeyUsage.includes('clientAuth');
}

/**
 * The practitioner whose signing certificate this is (CN = directory id), reached at the workstation: a live
 * PractitionerRole listing it, and a Practitioner entry carrying exactly this certificate. With the role's publisher.
 * Any signing certificate would not do (a clinic system's signs too): it must be a practitioner's, bound to the id.
 */
export async function practitionerAt(
  context: ProcessContext,
  workstation: string,
  signer: Uint8Array,
): Promise<{ practitioner: string; publisher: string }> {
  const id = commonNameOf(signer);
  const refuse = (why: string): never =>
    reject(
      REASON_CODES.signerMismatch,
      `only the clinic system of ${workstation} or a practitioner reached there may sign this: ${why}`,
    );
  if (id === undefined || certificateBindingProblem(signer, 'signing', id) !== undefined)
    return refuse(`the certificate of ${id ?? 'the signer'} is not a practitioner signing certificate`);
  const role = await store.findRole(context.tx, id);
  if (!role || role.retired) return refuse(`${id} has no live PractitionerRole in the directory`);
  if (!role.endpoints.includes(workstation))
    return refuse(`the PractitionerRole of ${id} does not list ${workstation}`);
  const [json] = await store.resourcesByUrl(context.tx, [`Practitioner/${id}`]);
  const signing = json ? certificatesOf(JSON.parse(json) as { extension?: unknown[] }).signing : [];
  if (!signing.some((base64) => Buffer.from(base64, 'base64').equals(signer))) {
    return refuse(`the directory entry of ${id} does not carry this signing certificate`);
  }
  return { practitioner: id, publisher: role.publisher };
}
