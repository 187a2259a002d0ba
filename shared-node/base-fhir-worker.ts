import { parentPort, workerData } from 'node:worker_threads';
import { validateFhirResource } from '../shared/protocol/fhir/index.ts';
import type { BaseFhirAnswer, BaseFhirJob } from './base-fhir-validator.ts';
import { loadFhirDefinitions } from './fhir-definitions.ts';
import { lowerThreadPriority } from './thread-priority.ts';

// The worker of base-fhir-validator.ts: loads the FHIR definitions, says it is ready, then answers each job with the
// issues `validateFhirResource` finds, or with none when it threw (the main thread then validates that one itself).
loadFhirDefinitions();
lowerThreadPriority((workerData as { niceness: number }).niceness);
parentPort!.postMessage('ready' satisfies BaseFhirAnswer);

parentPort!.on('message', ({ id, resource }: BaseFhirJob) => {
  let answer: BaseFhirAnswer;
  try {
    answer = { id, issues: validateFhirResource(resource) };
  } catch {
    answer = { id };
  }
  parentPort!.postMessage(answer);
});
