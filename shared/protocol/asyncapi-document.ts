import { RABBITMQ_TOPOLOGY } from '../broker/rabbitmq-names.ts';
import { CONTENT_TYPES } from './message-codec.ts';
import { MESSAGE_TYPE_SPECS, type MessageType } from './message-types.ts';
import { PROTOCOL_VERSION } from './protocol-version.ts';

/**
 * The AsyncAPI 3.0 description of the protocol (docs/asyncapi.yaml): the broker, the uplink and downlink channels, and
 * every message with its headers (AMQP application properties) and its body. Bodies are CMS; the FHIR payload inside
 * is described by the schema named in `x-rts-payload-schema`.
 */
const uplinkTypes = (Object.keys(MESSAGE_TYPE_SPECS) as MessageType[]).filter(
  (t) => MESSAGE_TYPE_SPECS[t].from !== 'hub',
);
const allTypes = Object.keys(MESSAGE_TYPE_SPECS) as MessageType[];
const messageKey = (type: MessageType) => type.replace(/[.-](\w)/g, (_m, c: string) => c.toUpperCase());

export function asyncApiDocument(): Record<string, unknown> {
  const messages = Object.fromEntries(
    allTypes.map((type) => {
      const spec = MESSAGE_TYPE_SPECS[type];
      return [
        messageKey(type),
        {
          name: type,
          title: type,
          summary: spec.summary,
          contentType: spec.envelope === 'signed' ? CONTENT_TYPES.signed : CONTENT_TYPES.authEnveloped,
          headers: { $ref: `./schemas/application-properties.schema.json` },
          payload: {
            type: 'string',
            format: 'binary',
            description:
              spec.envelope === 'signed'
                ? 'DER CMS SignedData (attached, SHA-256) over the UTF-8 FHIR JSON payload.'
                : 'DER CMS AuthEnvelopedData (AES-256-GCM) around SignedData over the UTF-8 FHIR JSON payload, encrypted to every recipient and to the sender. EnvelopedData (AES-256-CBC) is refused (cms-unsupported-algorithm).',
          },
          'x-rts-payload-schema': `./schemas/payloads/${type}.schema.json`,
          'x-rts-from': spec.from,
          'x-rts-case-scoped': spec.caseScoped,
          bindings: { amqp1: {} },
        },
      ];
    }),
  );
  const ref = (type: MessageType) => ({ $ref: `#/components/messages/${messageKey(type)}` });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Regional Telemedicine System (RTS) protocol',
      version: `${PROTOCOL_VERSION}.0`,
      description:
        "Endpoints (workstations and clinic systems) send every message to one uplink; the regional hub validates, routes and writes each endpoint's own durable downlink queue. See docs/protocol.md.",
    },
    defaultContentType: CONTENT_TYPES.signed,
    servers: {
      regionalBroker: {
        host: 'broker.example-region.org:5671',
        protocol: 'amqps',
        protocolVersion: '1.0',
        description:
          'The region\'s AMQP 1.0 broker (RabbitMQ 3.x with rabbitmq_amqp1_0 today). Open-frame hostname selects the vhost: "vhost:rts". SASL PLAIN with the endpoint id as user name.',
        security: [{ $ref: '#/components/securitySchemes/endpointLogin' }],
      },
    },
    channels: {
      uplink: {
        address: `/exchange/${RABBITMQ_TOPOLOGY.uplinkExchange}/{endpointId}`,
        title: 'Uplink',
        description:
          'The one queue every endpoint sends to, through the uplink exchange with its own endpoint id as routing key (the broker refuses any other).',
        parameters: { endpointId: { description: 'The sending endpoint id; equals the broker user name.' } },
        messages: Object.fromEntries(uplinkTypes.map((t) => [messageKey(t), ref(t)])),
      },
      downlink: {
        address: `/amq/queue/${RABBITMQ_TOPOLOGY.downlinkQueuePrefix}{endpointId}`,
        title: 'Downlink',
        description:
          "One durable quorum queue per endpoint, written only by the hub and readable only by that endpoint. A message leaves it only when the endpoint has committed it and settles it 'accepted'.",
        parameters: { endpointId: { description: 'The receiving endpoint id.' } },
        messages: Object.fromEntries(allTypes.map((t) => [messageKey(t), ref(t)])),
      },
    },
    operations: {
      sendToUplink: {
        action: 'send',
        channel: { $ref: '#/channels/uplink' },
        summary: 'An endpoint sends a message to the region.',
      },
      receiveFromDownlink: {
        action: 'receive',
        channel: { $ref: '#/channels/downlink' },
        summary: 'An endpoint receives what the hub routed to it.',
      },
    },
    components: {
      messages,
      securitySchemes: {
        endpointLogin: {
          type: 'plain',
          description: "SASL PLAIN over TLS; the password is issued by the region's administrator.",
        },
      },
    },
  };
}
