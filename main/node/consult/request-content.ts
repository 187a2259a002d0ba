import type { z } from 'zod';
import { patientSchema, requestContentSchema, type RequestContent } from '../../../shared/api/index.ts';
import { VITAL_SIGNS, type VitalSign } from '../../../shared/protocol/fhir/index.ts';
import type { CaseMessageContent } from './case-payloads.ts';

type RequestRead = Extract<CaseMessageContent, { kind: 'request' }>;
const shape = requestContentSchema.shape;
/** Each part of the patient alone: the compose form's schema of it, required (the partial schema makes all optional). */
const patientShape = patientSchema.shape;

const SIGN_BY_CODE = new Map(
  (Object.entries(VITAL_SIGNS) as [VitalSign, { code: string }][]).map(([sign, { code }]) => [code, sign]),
);

/** The items of a list that its schema takes: a reading the form could not send again is left out, not failed on. */
function fitting<T>(schema: z.ZodType<T>, items: readonly unknown[]): T[] {
  return items.flatMap((item) => {
    const parsed = schema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

/** As much of a list or text as its schema takes (a peer's request may carry more than this app sends). */
function capped<T extends string | readonly unknown[]>(schema: z.ZodType, value: T): T {
  const tooBig = schema.safeParse(value).error?.issues.find((i) => i.code === 'too_big' && i.path.length === 0);
  return tooBig?.code === 'too_big' ? (value.slice(0, Number(tooBig.maximum)) as T) : value;
}

/**
 * A verified request read back into what the compose form takes (the inverse of composing), to ask again about the
 * same patient or to send a redirected case on. What the form could not send (a partial birth date, a gap in a
 * recording, a measure it does not know) is left out; the form then asks for it.
 */
export function requestContentOf(request: RequestRead, priority: string | undefined): RequestContent {
  const patient = Object.fromEntries(
    (Object.keys(patientShape) as (keyof typeof patientShape)[]).flatMap((key) => {
      const parsed = patientShape[key].safeParse(request.patient[key]);
      return parsed.success && parsed.data !== undefined ? [[key, parsed.data]] : [];
    }),
  ) as RequestContent['patient'];
  const list = <T>(schema: z.ZodOptional<z.ZodArray<z.ZodType<T>>>, items: readonly unknown[]) =>
    capped(schema, fitting(schema.unwrap().element, items));
  const vitals = list(
    shape.vitals,
    request.vitals.map((v) => ({ sign: SIGN_BY_CODE.get(v.code), value: v.value, effective: v.effective })),
  );
  const bloodPressure = list(shape.bloodPressure, request.bloodPressure);
  const waveforms = list(shape.waveforms, request.waveforms);
  const attachments = list(shape.attachments, request.attachments);
  const question = capped(shape.question, request.question?.trim() ?? '');
  return {
    patient,
    priority: shape.priority.safeParse(priority).data ?? 'routine',
    reason: capped(shape.reason, request.reason),
    ...(question && { question }),
    ...(vitals.length > 0 && { vitals }),
    ...(bloodPressure.length > 0 && { bloodPressure }),
    ...(waveforms.length > 0 && { waveforms }),
    ...(attachments.length > 0 && { attachments }),
  };
}
