import { z } from 'zod';
import { applicationPropertiesSchema } from './application-properties.ts';
import { PAYLOAD_PROFILES } from './fhir/payload-profiles.ts';
import type { MessageType } from './message-types.ts';
import { PROTOCOL_MAJOR, PROTOCOL_VERSION } from './protocol-version.ts';

/**
 * The published JSON Schemas (draft 2020-12) of the protocol's major version, generated from the same zod schemas the TypeScript code
 * validates with, so the document other implementers read cannot drift from what we enforce.
 */
export const SCHEMA_BASE_URI = `urn:rts:schema:v${PROTOCOL_MAJOR}`;

function toJsonSchema(schema: z.ZodType, id: string, title: string): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw' });
  return { ...generated, $id: `${SCHEMA_BASE_URI}:${id}`, title, 'x-rts-protocol-version': PROTOCOL_VERSION };
}

export interface PublishedSchema {
  /** Path under docs/schemas/. */
  readonly file: string;
  readonly schema: Record<string, unknown>;
}

export function publishedSchemas(): PublishedSchema[] {
  return [
    {
      file: 'application-properties.schema.json',
      schema: toJsonSchema(
        applicationPropertiesSchema,
        'application-properties',
        `RTS v${PROTOCOL_MAJOR} AMQP application properties (all message types)`,
      ),
    },
    ...(Object.entries(PAYLOAD_PROFILES) as [MessageType, z.ZodType][]).map(([type, profile]) => ({
      file: `payloads/${type}.schema.json`,
      schema: toJsonSchema(
        profile,
        `payload:${type}`,
        `RTS v${PROTOCOL_MAJOR} payload of ${type} (FHIR R4 Bundle, type message)`,
      ),
    })),
  ];
}
