import { REASON_CODES, type ApplicationProperties, type MessageMetadata } from '../../shared/protocol/index.ts';
import * as store from '../store/hub-store.ts';
import { endpointOf, reject, roleOf, type Hub, type ProcessContext, type UplinkMessage } from './context.ts';
import { forward, forwarded, sendReceipt } from './outgoing.ts';

/** Routing of consult messages and their receipts by clear-text properties: the hub cannot decrypt consults. */

export async function routeConsult(
  hub: Hub,
  context: ProcessContext,
  message: UplinkMessage,
  metadata: MessageMetadata,
): Promise<void> {
  const props = metadata.properties as Extract<ApplicationProperties, { rtsCase: string }>;
  const to = await roleOf(context, props.rtsToPractitioner);
  if (!to) reject(REASON_CODES.unknownRecipient, `${props.rtsToPractitioner} is not in the directory`);
  if (to!.retired) reject(REASON_CODES.retiredExpert, `${props.rtsToPractitioner} has been retired from the directory`);
  const from = await roleOf(context, props.rtsFromPractitioner);
  if (!from || from.retired || !(from.endpoints.includes(props.rtsSender) || from.publisher === props.rtsSender)) {
    reject(
      REASON_CODES.notAuthorized,
      `${props.rtsFromPractitioner} is not a practitioner reached at ${props.rtsSender}`,
    );
  }
  // Only endpoints the expert's own clinic operates: a directory entry cannot divert consults elsewhere.
  const destinations: string[] = [];
  for (const id of to!.endpoints) {
    const endpoint = await endpointOf(context, id);
    if (endpoint && endpoint.operator === to!.publisher) destinations.push(id);
  }
  if (destinations.length === 0)
    reject(REASON_CODES.unknownRecipient, `no registered endpoint of ${props.rtsToPractitioner}`);
  forward(context, destinations, forwarded(hub, message.stored));
  context.pending.routes.push({ messageId: metadata.messageId, sender: props.rtsSender, recipients: destinations });
  await sendReceipt(hub, context, props.rtsSender, metadata.messageId, 'delivered');
}

/** Only about a message the hub routed from the addressee to the receipt's sender: no endpoint can write to any other. */
export async function forwardReceipt(
  hub: Hub,
  context: ProcessContext,
  message: UplinkMessage,
  metadata: MessageMetadata,
): Promise<void> {
  const props = metadata.properties as Extract<ApplicationProperties, { rtsType: 'receipt' }>;
  const to = props.rtsToEndpoint;
  if (!(await endpointOf(context, to))) reject(REASON_CODES.unknownRecipient, `${to} is not a registered endpoint`);
  const about = metadata.correlationId;
  if (!about) return reject(REASON_CODES.missingProperty, 'correlation_id: a receipt names the message it is about');
  const route = { messageId: about, sender: to, recipient: props.rtsSender };
  // Not routed yet may be routed now: the message's forwards leave before its commit, maybe on another instance.
  if (!(await store.wasRouted(context.tx, route))) {
    await store.awaitClaim(context.tx, about);
    if (!(await store.wasRouted(context.tx, route)))
      reject(REASON_CODES.notAuthorized, `${about} is no message the hub routed from ${to} to ${props.rtsSender}`);
  }
  forward(context, [to], forwarded(hub, message.stored));
}
