/**
 * Protocol version carried by every message (`rtsVersion`). Receivers accept any minor version of their major:
 * a minor version only adds optional properties or message types, which receivers ignore or reject cleanly.
 * 2.0 (docs/protocol.md §7.3): rtsSequence, creation_time and a receipt's outcome and reason are bound into the signed
 * payload, and AES-256-CBC EnvelopedData is refused. 1.x messages are refused as unsupported-version.
 */
export const PROTOCOL_VERSION = '2.0';
export const PROTOCOL_MAJOR = 2;

const VERSION_PATTERN = /^(\d{1,3})\.(\d{1,3})$/;

export function isSupportedVersion(version: string): boolean {
  const match = VERSION_PATTERN.exec(version);
  return match !== null && Number(match[1]) === PROTOCOL_MAJOR;
}
