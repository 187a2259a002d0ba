/** What other layers may use of testkit/: they import it from here only (eslint rule rts/layers). */
export {
  directoryContent,
  hubEngines,
  isType,
  publishDeltaFrom,
  receiptFor,
  seedDirectory,
  startHubSuite,
} from './hub-suite.ts';
export type { HubSuite } from './hub-suite.ts';
export { startRevocationSuite } from './revocation-suite.ts';
export type { RevocationSuite } from './revocation-suite.ts';
export { connectEndpointTo, connectTestEndpoint, registerClinicSystem, requestSnapshotAs } from './test-endpoint.ts';
export type { ReceivedMessage, TestEndpoint } from './test-endpoint.ts';
export { purgeTestQueues, TEST_PGLITE_TEMPLATES, writeTestHubConfig } from './test-hub-config.ts';
export { createTestRegion, expertEntry, hospital } from './test-region.ts';
export { regionTrust, sealedDeltaPublish } from './sealed-publish.ts';
export type { TestIdentity, TestPractitioner, TestRegion } from './test-region.ts';
export { BROKER_KIND_ENV, loadBrokerUnderTest, rabbitmqAsBrokerUnderTest } from './broker-under-test.ts';
export type { BrokerUnderTest } from './broker-under-test.ts';
export { createUplinkFixture, describeForwards, describeSent } from './uplink-fixture.ts';
export type { UplinkFixture } from './uplink-fixture.ts';
export { until } from './wait.ts';
