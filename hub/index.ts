/** What other layers may use of hub/: they import it from here only (eslint rule rts/layers). */
export { buildRabbitmqDefinitions, rabbitPasswordHash } from './broker/rabbitmq-definitions.ts';
export {
  ARTEMIS_ROLES,
  artemisBrokerXml,
  artemisPasswordHash,
  buildArtemisConfiguration,
  type ArtemisConfiguration,
} from './broker/artemis-configuration.ts';
export type { BrokerUser } from './broker/rabbitmq-definitions.ts';
export { createRabbitmqProvisioner, managementApiCall } from './broker/rabbitmq-provisioner.ts';
export { createArtemisProvisioner, createArtemisManagement } from './broker/artemis-provisioner.ts';
export { ProvisioningError } from './broker/endpoint-provisioner.ts';
export type { EndpointProvisioner } from './broker/endpoint-provisioner.ts';
export { HubConfigError, loadHubConfig } from './hub-config.ts';
export type { HubConfig } from './hub-config.ts';
export { startHub } from './hub-service.ts';
export type { HubService } from './hub-service.ts';
export { uplinkMessage } from './uplink-message.ts';
export { migrateHubSchema } from './store/hub-schema.ts';
export type { OutboxRow } from './store/hub-store.ts';
export { openPglite } from './store/sql-client.ts';
export type { SqlClient } from './store/sql-client.ts';
export { createProcessContext, createUplinkProcessor } from './uplink-processor.ts';
export type { HubIdentity, Outbound, ProcessOutcome, UplinkMessage, UplinkProcessor } from './uplink-processor.ts';
export * as hubStore from './store/hub-store.ts';
