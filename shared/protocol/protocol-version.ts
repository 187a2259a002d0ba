/**
 * Protocol version carried by every message (`rtsVersion`). Receivers accept any minor version of their major:
 * a minor version only adds optional properties or message types, which receivers ignore or reject cleanly.
 */
export const PROTOCOL_VERSION = '1.0';
export const PROTOCOL_MAJOR = 1;

const VERSION_PATTERN = /^(\d{1,3})\.(\d{1,3})$/;

export function isSupportedVersion(version: string): boolean {
  const match = VERSION_PATTERN.exec(version);
  return match !== null && Number(match[1]) === PROTOCOL_MAJOR;
}
