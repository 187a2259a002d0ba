import { commonNameOf } from '../../shared/pki/index.ts';
import { HUB_SENDER, REASON_CODES, type MessageMetadata } from '../../shared/protocol/index.ts';
import { ProvisioningError } from '../broker/endpoint-provisioner.ts';
import * as store from '../store/hub-store.ts';
import { newestCrlPerAnchor } from '../trust-reloader.ts';
import { entryResource, isClinicSystemCertificate, practitionerAt, verifySigned } from './admission.ts';
import { reject, type Hub, type ProcessContext } from './context.ts';
import { requestedSnapshot } from './directory-snapshot.ts';
import { crlNotice, queue, sendNotice, sendReceipt } from './outgoing.ts';

/**
 * An endpoint's registration: its signer decides who operates it; the broker gets its queue; it is welcomed, sent the
 * newest CRLs and a directory snapshot.
 */
export async function register(
  hub: Hub,
  context: ProcessContext,
  metadata: MessageMetadata,
  body: Uint8Array,
): Promise<void> {
  const sender = metadata.properties.rtsSender;
  if (sender === HUB_SENDER) reject(REASON_CODES.notAuthorized, `"${HUB_SENDER}" is the hub's own name`);
  const { signer, payload } = await verifySigned(hub, metadata, body);
  const endpoint = entryResource<{ id: string; name?: string; connectionType: { code: string } }>(payload, 1);
  const organization = entryResource<{ name: string }>(payload, 2);
  if (endpoint.id !== sender) reject(REASON_CODES.headerMismatch, 'Endpoint.id differs from rtsSender');
  const kind = endpoint.connectionType.code as store.EndpointKind;

  let operator: string;
  if (kind === 'clinic-system') {
    const signerName = commonNameOf(signer);
    if (!isClinicSystemCertificate(signer))
      reject(REASON_CODES.signerMismatch, 'a clinic system registers with its own clinic system certificate');
    if (signerName !== sender)
      reject(
        REASON_CODES.signerMismatch,
        `a clinic system registers with its own certificate; this one names ${signerName ?? 'no one'}`,
      );
    operator = sender;
  } else {
    operator = await workstationOperator(context, sender, signer);
  }
  const existing = await store.getEndpoint(context.tx, sender);
  if (existing && existing.operator !== operator)
    reject(REASON_CODES.notAuthorized, `${sender} is operated by ${existing.operator}`);

  try {
    await hub.provisioner.provision(sender);
  } catch (error) {
    if (error instanceof ProvisioningError && error.permanent) reject(REASON_CODES.notAuthorized, error.message);
    throw error;
  }
  context.cache.endpoints.delete(sender);
  await store.saveEndpoint(
    context.tx,
    {
      id: sender,
      kind,
      operator,
      name: endpoint.name ?? sender,
      organization: organization.name,
      certificate: kind === 'clinic-system' ? signer : null,
    },
    hub.now(),
  );
  await sendNotice(hub, context, sender, 'registration-accepted', `Welcome, ${sender}. A directory snapshot follows.`);
  // A new endpoint holds the CRL it was enrolled with, maybe older than the region's: it gets the newest at once,
  // this instance's or one another instance already fanned out (this one may not have read its file yet). Read
  // under the directory lock (the snapshot's two locks, in their order), which distributeCrl takes too: a CRL
  // distributed meanwhile is either among those read here or fanned out after this endpoint is recorded.
  await store.lockSnapshotState(context.tx, sender);
  await store.lockDirectory(context.tx);
  const crls = await newestCrlPerAnchor(hub.trust.anchors, [
    ...(hub.trust.crls ?? []),
    ...(await store.newestDistributedCrls(context.tx)),
  ]);
  for (const crl of crls) await queue(hub, context, [sender], await crlNotice(hub, crl, sender));
  await sendReceipt(hub, context, sender, metadata.messageId, 'processed');
  await requestedSnapshot(hub, context, sender);
}

/**
 * A workstation is vouched for by its clinic system (CN = the clinic's endpoint id), which then operates it, or —
 * as a workstation in the field holds its practitioner's key, never its clinic's — by a practitioner its clinic
 * publishes as reached there, and then that clinic operates it.
 */
async function workstationOperator(context: ProcessContext, workstation: string, signer: Uint8Array): Promise<string> {
  if (isClinicSystemCertificate(signer)) {
    const name = commonNameOf(signer);
    const clinic = name === undefined ? undefined : await store.getEndpoint(context.tx, name);
    if (
      !clinic ||
      clinic.kind !== 'clinic-system' ||
      !clinic.certificate ||
      !Buffer.from(clinic.certificate).equals(signer)
    ) {
      reject(
        REASON_CODES.signerMismatch,
        `a workstation is registered by its clinic system or one of its practitioners; ${name ?? 'the signer'} is not a registered clinic system with this certificate`,
      );
    }
    return name!;
  }
  const { practitioner, publisher } = await practitionerAt(context, workstation, signer);
  const clinic = await store.getEndpoint(context.tx, publisher);
  if (clinic?.kind !== 'clinic-system')
    reject(
      REASON_CODES.signerMismatch,
      `${publisher}, which publishes ${practitioner}, is not a registered clinic system`,
    );
  return publisher;
}
