/**
 * An endpoint id names one workstation or clinic system in a region. It becomes part of broker queue names, user
 * names, routing keys and permission regexes, so it is restricted to characters that are safe in all of them.
 */
export const ENDPOINT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isEndpointId(value: string): boolean {
  return ENDPOINT_ID_PATTERN.test(value);
}

export function assertEndpointId(value: string): string {
  if (!isEndpointId(value)) {
    throw new Error(`invalid endpoint id ${JSON.stringify(value)}: use 1-63 of a-z, 0-9 and '-', not at either end`);
  }
  return value;
}
