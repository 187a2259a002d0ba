import { z } from 'zod';

/**
 * A secret in a server's configuration (the hub's hub.json, the connector's connector.json) is never written there: it
 * is a reference to an environment variable, a file (e.g. a mounted secret) or an account in the OS keychain. Each
 * process resolves references itself (hub/hub-config.ts, connector/secret-reference.ts).
 */
const envReference = z.object({ env: z.string().min(1) }).strict();
const fileReference = z.object({ file: z.string().min(1) }).strict();
const keychainReference = z.object({ keychain: z.string().min(1) }).strict();

export const secretReferenceSchema = z.union([envReference, fileReference, keychainReference]);
export type SecretReference = z.infer<typeof secretReferenceSchema>;

/** For a process that has no OS keychain to read (the hub, on a server): an environment variable or a file. */
export const envOrFileSecretReferenceSchema = z.union([envReference, fileReference]);
export type EnvOrFileSecretReference = z.infer<typeof envOrFileSecretReferenceSchema>;
