import { parentPort, workerData } from 'node:worker_threads';
import { verify, type TrustConfig } from '../shared/cms/index.ts';
import { certificatesOf, validatePayload } from '../shared/protocol/fhir/index.ts';
import { decodeMessage, MESSAGE_TYPES } from '../shared/protocol/index.ts';
import { certificateKeyOf, trustKeyOf, type AcceptedCertificates } from './certificate-cache.ts';
import { loadFhirDefinitions } from './fhir-definitions.ts';
import { lowerThreadPriority } from './thread-priority.ts';
import { createNativeCertificateChecker, type CertificateChecker } from './native-certificate-validator.ts';
import {
  digestOf,
  metadataKeyOf,
  type WorkerAnswer,
  type WorkerJob,
  type WorkerVerdict,
} from './payload-validation-pool.ts';

// The worker of payload-validation-pool.ts: decode, open the signed envelope, validate the payload; answers the
// verdict with what it was reached on (the content's digest and the metadata), or nothing when the message fails
// before its payload (the main thread then finds out why). It never sends the payload back: the main thread parses
// the content it verified itself. It says when it is ready: until then the main thread validates in line. Asked to
// (the hub), it also checks the certificates of a directory publish's Practitioners and answers those it accepted.
loadFhirDefinitions();
const started = workerData as { trust: TrustConfig; niceness: number };
let { trust } = started;
lowerThreadPriority(started.niceness);
parentPort!.postMessage('ready' satisfies WorkerAnswer);

/** The native check's fast path only, verifying here: what it does not accept, the main thread checks and explains. */
const checkers = new WeakMap<TrustConfig, CertificateChecker>();
const leftToTheMainThread = () => Promise.reject(new Error('not accepted here'));

async function acceptedIn(payload: Record<string, unknown>, at: number): Promise<AcceptedCertificates> {
  const checking = trust;
  let check = checkers.get(checking);
  if (!check)
    checkers.set(
      checking,
      (check = createNativeCertificateChecker(checking, { fallback: leftToTheMainThread, verifyOnThisThread: true })),
    );
  const inner = (payload.entry as { resource?: { entry?: { resource?: Record<string, unknown> }[] } }[])[1]?.resource;
  const certificates: { key: string; notAfter: number }[] = [];
  for (const { resource } of inner?.entry ?? []) {
    if (resource?.resourceType !== 'Practitioner') continue;
    const listed = certificatesOf(resource);
    for (const use of ['signing', 'encryption'] as const)
      for (const base64 of listed[use]) {
        const der = new Uint8Array(Buffer.from(base64, 'base64'));
        try {
          certificates.push({ key: certificateKeyOf(der, use), notAfter: await check(der, use, new Date(at)) });
        } catch {
          // Not accepted here: the main thread checks it again and says why.
        }
      }
  }
  return { trustKey: trustKeyOf(checking), at, certificates };
}

parentPort!.on('message', (job: WorkerJob) => {
  if ('trust' in job) {
    trust = job.trust;
    return;
  }
  const { fields, certificatesAt } = job;
  void (async () => {
    let verdict: WorkerVerdict | undefined;
    try {
      const decoded = decodeMessage(fields);
      if (decoded.ok) {
        const opened = await verify(decoded.value.body, trust);
        const result = validatePayload(opened.content, decoded.value.metadata);
        const checksCertificates =
          result.ok &&
          certificatesAt !== undefined &&
          decoded.value.metadata.properties.rtsType === MESSAGE_TYPES.directoryPublish;
        verdict = {
          result: result.ok ? { ok: true } : result,
          contentDigest: digestOf(opened.content),
          metadataKey: metadataKeyOf(decoded.value.metadata),
          ...(checksCertificates && { accepted: await acceptedIn(result.value, certificatesAt) }),
        };
      }
    } catch {
      verdict = undefined;
    }
    parentPort!.postMessage(verdict satisfies WorkerAnswer);
  })();
});
