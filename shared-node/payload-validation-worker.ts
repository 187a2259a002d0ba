import { parentPort, workerData } from 'node:worker_threads';
import { verify, type TrustConfig } from '../shared/cms/index.ts';
import { validatePayload } from '../shared/protocol/fhir/index.ts';
import { decodeMessage } from '../shared/protocol/index.ts';
import { loadFhirDefinitions } from './fhir-definitions.ts';
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
// the content it verified itself. It says when it is ready: until then the main thread validates in line.
loadFhirDefinitions();
let { trust } = workerData as { trust: TrustConfig };
parentPort!.postMessage('ready' satisfies WorkerAnswer);

parentPort!.on('message', (job: WorkerJob) => {
  if ('trust' in job) {
    trust = job.trust;
    return;
  }
  const { fields } = job;
  void (async () => {
    let verdict: WorkerVerdict | undefined;
    try {
      const decoded = decodeMessage(fields);
      if (decoded.ok) {
        const opened = await verify(decoded.value.body, trust);
        const result = validatePayload(opened.content, decoded.value.metadata);
        verdict = {
          result: result.ok ? { ok: true } : result,
          contentDigest: digestOf(opened.content),
          metadataKey: metadataKeyOf(decoded.value.metadata),
        };
      }
    } catch {
      verdict = undefined;
    }
    parentPort!.postMessage(verdict satisfies WorkerAnswer);
  })();
});
