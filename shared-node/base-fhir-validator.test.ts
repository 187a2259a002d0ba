import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { protocolExamples } from '../shared/protocol/index.ts';
import { validateFhirResource } from '../shared/protocol/fhir/index.ts';
import { createBaseFhirValidator, type BaseFhirValidator } from './base-fhir-validator.ts';
import { loadFhirDefinitions } from './fhir-definitions.ts';

const request = protocolExamples({ signing: btoa('s'), encryption: btoa('e') }).find(
  (e) => e.type === 'consult.request',
)!.payload;
/** Base FHIR R4 refuses it (an element Patient does not have); the RTS profile is not asked here. */
const invalid = structuredClone(request) as unknown as { entry: { resource: Record<string, unknown> }[] };
invalid.entry[3]!.resource.favouriteColour = 'blue';

const ready = async (validator: BaseFhirValidator) => {
  // The first payload starts the worker (validated in line meanwhile); later ones go to it once it is ready.
  await validator.validate(request);
  await vi.waitFor(
    async () => {
      await validator.validate(request);
      expect(validator.counts().onWorker).toBeGreaterThan(0);
    },
    { timeout: 30_000, interval: 50 },
  );
};

describe('base FHIR validation on a worker thread', () => {
  let dir: string;
  beforeAll(() => {
    loadFhirDefinitions();
    dir = mkdtempSync(join(tmpdir(), 'rts-base-fhir-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches the verdicts the main thread reaches, on the worker once it is ready', async () => {
    const validator = createBaseFhirValidator();
    try {
      await ready(validator);
      const before = validator.counts();
      const issues = await validator.validate(invalid);
      expect(issues).toEqual(validateFhirResource(invalid));
      expect(issues).toEqual([expect.objectContaining({ path: expect.stringContaining('favouriteColour') })]);
      expect(await validator.validate(request)).toEqual([]);
      expect(validator.counts()).toMatchObject({ onWorker: before.onWorker + 2, inline: before.inline, running: true });
    } finally {
      await validator.close();
    }
  });

  it('stops its worker when idle and starts it again for the next payload', async () => {
    const validator = createBaseFhirValidator({ idleMs: 100 });
    try {
      await ready(validator);
      await vi.waitFor(() => expect(validator.counts().running).toBe(false), { timeout: 5_000, interval: 20 });
      expect(await validator.validate(invalid)).toEqual(validateFhirResource(invalid));
      expect(validator.counts().running).toBe(true);
    } finally {
      await validator.close();
    }
  });

  it('validates in line, and says so once, when its worker cannot start', async () => {
    const errors: Error[] = [];
    const validator = createBaseFhirValidator({
      workerScript: join(dir, 'missing-worker.mjs'),
      onWorkerError: (error) => errors.push(error),
    });
    try {
      expect(await validator.validate(invalid)).toEqual(validateFhirResource(invalid));
      await vi.waitFor(() => expect(errors).toHaveLength(1), { timeout: 10_000, interval: 20 });
      expect(await validator.validate(request)).toEqual([]);
      expect(validator.counts()).toMatchObject({ onWorker: 0, inline: 2, running: false });
      expect(errors).toHaveLength(1);
    } finally {
      await validator.close();
    }
  });

  it('validates here what a worker that dies had not answered', async () => {
    // Ready at once, then gone at its first job: the job it took is answered here.
    const dying = join(dir, 'dying-worker.mjs');
    writeFileSync(
      dying,
      "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('ready');\nparentPort.on('message', () => process.exit(3));\n",
    );
    const errors: Error[] = [];
    const validator = createBaseFhirValidator({ workerScript: dying, onWorkerError: (error) => errors.push(error) });
    try {
      // Until the worker is ready payloads are validated here; the first one it takes kills it.
      const verdicts: unknown[] = [];
      await vi.waitFor(
        async () => {
          verdicts.push(await validator.validate(invalid));
          expect(errors).toHaveLength(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(errors[0]!.message).toContain('exited (code 3)');
      expect(verdicts).toEqual(verdicts.map(() => validateFhirResource(invalid)));
      expect(validator.counts()).toMatchObject({ onWorker: 0, inline: verdicts.length, running: false });
    } finally {
      await validator.close();
    }
  });

  it('validates in line after it is closed', async () => {
    const validator = createBaseFhirValidator();
    await validator.close();
    expect(await validator.validate(invalid)).toEqual(validateFhirResource(invalid));
    expect(validator.counts()).toEqual({ onWorker: 0, inline: 1, running: false });
  });
});
