/** What other layers may use of connector/: they import it from here only (eslint rule rts/layers). */
export { openApiYaml } from './http-api.ts';
export { CONNECTOR_VERSION, runConnector } from './run-connector.ts';
export type { RunningConnector } from './run-connector.ts';
export { verifyWebhookSignature } from './webhooks.ts';
