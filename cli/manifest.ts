import { join } from 'node:path';
import { z } from 'zod';
import { CERTIFICATE_PROFILES, KEY_TYPES } from '../shared/pki/index.ts';
import { CLI_ERROR_CODES, CliError } from './cli-error.ts';
import { readText, writeFileAtomic } from './files.ts';

/** manifest.json of a demo region: what `rts pki demo-region` made and what `rts pki revoke` changed since. */

export const MANIFEST_FILE = 'manifest.json';

const identitySchema = z.object({
  name: z.string(),
  profile: z.enum(Object.keys(CERTIFICATE_PROFILES) as [keyof typeof CERTIFICATE_PROFILES]),
  subject: z.string(),
  serialNumber: z.string(),
  notAfter: z.string(),
  files: z.object({ certificate: z.string(), privateKey: z.string(), pkcs12: z.string().optional() }),
  revokedAt: z.string().optional(),
});

const manifestSchema = z.object({
  region: z.string(),
  keyType: z.enum(Object.values(KEY_TYPES)),
  createdAt: z.string(),
  ca: identitySchema,
  crl: z.object({ file: z.string(), crlNumber: z.number().int() }),
  pkcs12PasswordFile: z.string(),
  identities: z.array(identitySchema),
});

export type ManifestIdentity = z.infer<typeof identitySchema>;
export type Manifest = z.infer<typeof manifestSchema>;

export function readManifest(directory: string): Manifest {
  const path = join(directory, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(CLI_ERROR_CODES.badManifest, `${path} is not JSON`, { cause: error });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]?.message ?? '';
    throw new CliError(CLI_ERROR_CODES.badManifest, `${path} is not a demo-region manifest: ${reason}`);
  }
  return parsed.data;
}

export function writeManifest(directory: string, manifest: Manifest): void {
  writeFileAtomic(join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
