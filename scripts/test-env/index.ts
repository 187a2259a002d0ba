/** What other layers may use of scripts/test-env/: they import it from here only (eslint rule rts/layers). */
export { BROKER_STATE_ENV, endpointCredentials, loadBrokerEnv } from './broker-env.ts';
export {
  ARTEMIS_STATE_ENV,
  killArtemis,
  loadArtemisEnv,
  restartArtemis,
  type ArtemisEnvState,
} from './artemis-control.ts';
export type { BrokerEnvState } from './broker-env.ts';
export { createFreePortHost, freeLoopbackPort } from './free-port.ts';
export { LEAVES, createTestPki, opensslDecrypt, runOpenssl } from './openssl-pki.ts';
export type { LeafName, TestPki } from './openssl-pki.ts';
export { createTestDatabase, loadPostgresEnv } from './postgres-env.ts';
export { ctl, killNode, restartNode } from './rabbitmq-control.ts';
