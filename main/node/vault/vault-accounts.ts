/** Keychain account names: one place, so that no two features write the same secret under different names. */
export function brokerPasswordAccount(endpointId: string): string {
  return `broker-password:${endpointId}`;
}
