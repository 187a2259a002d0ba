import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { assertEndpointId } from '../../shared/protocol/index.ts';
import { ARTEMIS_TOPOLOGY as A, artemisDownlinkAddress, artemisUplinkAddress } from '../../shared/broker/index.ts';
import type { BrokerUser, TopologyOptions } from './rabbitmq-definitions.ts';

/**
 * The RTS topology for ActiveMQ Artemis 2.x, from the same options as the RabbitMQ definitions: what an administrator
 * merges into `broker.xml` (security settings, address settings, diverts, addresses) and the two files of Artemis's
 * PropertiesLoginModule (users with hashed passwords, roles). See shared/broker/artemis-names.ts for why every
 * endpoint has its own uplink address.
 */
export interface ArtemisConfiguration {
  /** The `<core>` elements of the topology, in the order broker.xml's schema wants them. */
  readonly coreXml: string;
  /** `artemis-users.properties`: user = ENC(iterations:salt:hash). */
  readonly usersProperties: string;
  /** `artemis-roles.properties`: role = users. */
  readonly rolesProperties: string;
}

const DEFAULT_DELIVERY_LIMIT = 5;

export const ARTEMIS_ROLES = {
  admin: 'rts-admin',
  hub: 'rts-hub',
  endpoint: (endpointId: string) => `rts-endpoint-${assertEndpointId(endpointId)}`,
} as const;

/** Artemis's default password codec, one-way: PBKDF2-HMAC-SHA1, 1024 iterations, 32-byte salt, 64-byte hash. */
export function artemisPasswordHash(password: string, salt: Buffer = randomBytes(32)): string {
  const hash = pbkdf2Sync(password, salt, 1024, 64, 'sha1');
  return `ENC(1024:${salt.toString('hex').toUpperCase()}:${hash.toString('hex').toUpperCase()})`;
}

/** A user or role name goes into properties keys and broker.xml attributes unescaped: keep it to safe characters. */
function assertPlainName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`unsafe Artemis user or role name ${JSON.stringify(name)}`);
  return name;
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const xmlText = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);

const ALL_PERMISSIONS = [
  'createAddress',
  'deleteAddress',
  'createDurableQueue',
  'deleteDurableQueue',
  'createNonDurableQueue',
  'deleteNonDurableQueue',
  'send',
  'consume',
  'browse',
  'manage',
] as const;
type Permission = (typeof ALL_PERMISSIONS)[number];

/** One `<security-setting>`: the roles granted each permission on the addresses `match` names. */
export interface ArtemisSecuritySetting {
  readonly match: string;
  readonly roles: Readonly<Record<Permission, readonly string[]>>;
}

/**
 * Artemis applies the most specific match only (settings are not merged), so each one repeats the administrator's
 * operational rights beside what hub and endpoints may do.
 */
function securitySetting(match: string, grants: Partial<Record<Permission, string[]>>): ArtemisSecuritySetting {
  const roles = Object.fromEntries(
    ALL_PERMISSIONS.map((type) => [
      type,
      [
        ...(grants[type] ?? []),
        ...(['send', 'consume', 'browse', 'manage'].includes(type) || match === '#' ? [ARTEMIS_ROLES.admin] : []),
      ],
    ]),
  ) as Record<Permission, string[]>;
  return { match, roles };
}

/** An endpoint may send to its own uplink address only (the administrator's part, with its user). */
export function endpointUplinkSecurity(endpointId: string): ArtemisSecuritySetting {
  return securitySetting(artemisUplinkAddress(endpointId), { send: [ARTEMIS_ROLES.endpoint(endpointId)] });
}

/** An endpoint reads its downlink, which only the hub may send to (the hub's part, at its registration). */
export function endpointDownlinkSecurity(endpointId: string): ArtemisSecuritySetting {
  return securitySetting(artemisDownlinkAddress(endpointId), {
    send: [ARTEMIS_ROLES.hub],
    consume: [ARTEMIS_ROLES.endpoint(endpointId)],
  });
}

/**
 * The arguments of the management operation `addSecuritySettings` (ActiveMQServerControl, the 11-argument form):
 * the match, then each permission's roles comma-separated in the operation's order.
 */
export function addSecuritySettingsArguments(setting: ArtemisSecuritySetting): string[] {
  const order: Permission[] = [
    'send',
    'consume',
    'createDurableQueue',
    'deleteDurableQueue',
    'createNonDurableQueue',
    'deleteNonDurableQueue',
    'manage',
    'browse',
    'createAddress',
    'deleteAddress',
  ];
  return [setting.match, ...order.map((type) => setting.roles[type].join(','))];
}

function securitySettingXml(setting: ArtemisSecuritySetting): string {
  const permissions = ALL_PERMISSIONS.filter((type) => setting.roles[type].length).map(
    (type) => `        <permission type="${type}" roles="${setting.roles[type].join(',')}"/>`,
  );
  return `      <security-setting match="${setting.match}">\n${permissions.join('\n')}\n      </security-setting>`;
}

/**
 * The topology of `options`. Every endpoint gets its user, role, uplink address and divert, so that it can send its
 * registration; its downlink (address, queue, who may read it) only if `provisioned` names it (default: all), as the
 * hub makes it at registration otherwise (artemis-provisioner.ts), the way RabbitMQ's definitions and provisioner split.
 */
export function buildArtemisConfiguration(
  options: TopologyOptions,
  provisioned: readonly string[] = options.endpoints.map((e) => e.name),
): ArtemisConfiguration {
  const deliveryLimit = options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT;
  const endpointIds = options.endpoints.map((e) => assertEndpointId(e.name));
  const provisionedIds = provisioned.map(assertEndpointId);
  const admin = ARTEMIS_ROLES.admin;
  const hub = ARTEMIS_ROLES.hub;

  const security = [
    securitySetting('#', {}),
    securitySetting(A.uplinkQueue, { consume: [hub], browse: [hub] }),
    securitySetting(A.deadLetterQueue, { consume: [hub], browse: [hub] }),
    ...endpointIds.map(endpointUplinkSecurity),
    ...provisionedIds.map(endpointDownlinkSecurity),
  ].map(securitySettingXml);
  const addressSettings = `      <address-setting match="#">
        <auto-create-queues>false</auto-create-queues>
        <auto-create-addresses>false</auto-create-addresses>
        <auto-delete-queues>false</auto-delete-queues>
        <auto-delete-addresses>false</auto-delete-addresses>
        <default-address-routing-type>ANYCAST</default-address-routing-type>
        <default-queue-routing-type>ANYCAST</default-queue-routing-type>
      </address-setting>
      <address-setting match="rts.#">
        <dead-letter-address>${A.deadLetterQueue}</dead-letter-address>
        <max-delivery-attempts>${deliveryLimit}</max-delivery-attempts>
        <expiry-address>${A.deadLetterQueue}</expiry-address>
        <redelivery-delay>0</redelivery-delay>
        <!-- In a cluster of live groups: a queue with no consumer of its own hands its messages to a node that has one. -->
        <redistribution-delay>0</redistribution-delay>
      </address-setting>
      <address-setting match="${A.deadLetterQueue}">
        <!-- Dead letters stay until the hub takes them: never dead-lettered again, never dropped. -->
        <max-delivery-attempts>-1</max-delivery-attempts>
      </address-setting>`;
  const anycastQueue = (name: string) =>
    `      <address name="${name}"><anycast><queue name="${name}"><durable>true</durable></queue></anycast></address>`;
  const addresses = [
    anycastQueue(A.uplinkQueue),
    anycastQueue(A.deadLetterQueue),
    ...endpointIds.map((id) => `      <address name="${artemisUplinkAddress(id)}"><multicast/></address>`),
    ...provisionedIds.map((id) => anycastQueue(artemisDownlinkAddress(id))),
  ];
  const diverts = endpointIds.map(
    (id) => `      <divert name="${artemisUplinkAddress(id)}">
        <address>${artemisUplinkAddress(id)}</address>
        <forwarding-address>${A.uplinkQueue}</forwarding-address>
        <routing-type>ANYCAST</routing-type>
        <exclusive>true</exclusive>
      </divert>`,
  );

  const coreXml = [
    `    <security-settings>\n${security.join('\n')}\n    </security-settings>`,
    `    <address-settings>\n${addressSettings}\n    </address-settings>`,
    `    <diverts>\n${diverts.join('\n')}\n    </diverts>`,
    `    <addresses>\n${addresses.join('\n')}\n    </addresses>`,
  ].join('\n');

  const user = (u: BrokerUser) => `${assertPlainName(u.name)} = ${artemisPasswordHash(u.password)}`;
  const usersProperties = [user(options.admin), user(options.hub), ...options.endpoints.map(user)].join('\n') + '\n';
  const rolesProperties =
    [
      `${admin} = ${assertPlainName(options.admin.name)}`,
      `${hub} = ${assertPlainName(options.hub.name)}`,
      ...endpointIds.map((id) => `${ARTEMIS_ROLES.endpoint(id)} = ${id}`),
    ].join('\n') + '\n';
  return { coreXml, usersProperties, rolesProperties };
}

export interface ArtemisBrokerSettings {
  /** The broker's name in its logs and management. */
  readonly name: string;
  /** AMQP acceptors as Artemis URLs, e.g. tcp://127.0.0.1:5672?protocols=AMQP. */
  readonly acceptors: readonly string[];
  /**
   * One of several live groups serving at once, as the source system ran its brokers: a symmetric cluster over
   * core-protocol links on loopback, moving messages on demand to the node whose consumer asks for them.
   */
  readonly group?: {
    readonly corePort: number;
    readonly peerCorePorts: readonly number[];
    readonly clusterUser: string;
    readonly clusterPassword: string;
  };
  /** One half of a primary/backup pair that replicates its journal over a core-protocol link on loopback. */
  readonly pair?: {
    readonly role: 'primary' | 'backup';
    readonly corePort: number;
    readonly peerCorePort: number;
    readonly clusterUser: string;
    readonly clusterPassword: string;
  };
}

/** The elements that make a broker one half of a replicating pair: the backup takes over when the primary dies. */
function pairXml(pair: NonNullable<ArtemisBrokerSettings['pair']>): { acceptor: string; elements: string } {
  return {
    acceptor: `      <acceptor name="replication">tcp://127.0.0.1:${pair.corePort}?protocols=CORE</acceptor>`,
    elements: `    <connectors>
      <connector name="self">tcp://127.0.0.1:${pair.corePort}</connector>
      <connector name="peer">tcp://127.0.0.1:${pair.peerCorePort}</connector>
    </connectors>
    <cluster-user>${assertPlainName(pair.clusterUser)}</cluster-user>
    <cluster-password>${xmlText(pair.clusterPassword)}</cluster-password>
    <cluster-connections>
      <cluster-connection name="rts-pair">
        <connector-ref>self</connector-ref>
        <message-load-balancing>OFF</message-load-balancing>
        <static-connectors><connector-ref>peer</connector-ref></static-connectors>
      </cluster-connection>
    </cluster-connections>
    <ha-policy><replication>${pair.role === 'primary' ? '<primary/>' : '<backup/>'}</replication></ha-policy>`,
  };
}

/** The elements that make a broker one live group of a cluster (no HA policy: each group is one live broker here). */
function groupXml(group: NonNullable<ArtemisBrokerSettings['group']>): { acceptor: string; elements: string } {
  const peers = group.peerCorePorts.map(
    (port, i) => `      <connector name="peer-${i + 1}">tcp://127.0.0.1:${port}</connector>`,
  );
  return {
    acceptor: `      <acceptor name="cluster">tcp://127.0.0.1:${group.corePort}?protocols=CORE</acceptor>`,
    elements: `    <connectors>
      <connector name="self">tcp://127.0.0.1:${group.corePort}</connector>
${peers.join('\n')}
    </connectors>
    <cluster-user>${assertPlainName(group.clusterUser)}</cluster-user>
    <cluster-password>${xmlText(group.clusterPassword)}</cluster-password>
    <cluster-connections>
      <cluster-connection name="rts-groups">
        <connector-ref>self</connector-ref>
        <message-load-balancing>ON_DEMAND</message-load-balancing>
        <max-hops>1</max-hops>
        <static-connectors>${group.peerCorePorts.map((_, i) => `<connector-ref>peer-${i + 1}</connector-ref>`).join('')}</static-connectors>
      </cluster-connection>
    </cluster-connections>`,
  };
}

/** A whole broker.xml holding the topology: for a new broker, and for the test environment's private one. */
export function artemisBrokerXml(settings: ArtemisBrokerSettings, configuration: ArtemisConfiguration): string {
  const cluster = settings.pair ? pairXml(settings.pair) : settings.group && groupXml(settings.group);
  const acceptors = [
    ...settings.acceptors.map((url, i) => `      <acceptor name="amqp${i ? i + 1 : ''}">${xmlText(url)}</acceptor>`),
    ...(cluster ? [cluster.acceptor] : []),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>
<configuration xmlns="urn:activemq" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
               xsi:schemaLocation="urn:activemq /schema/artemis-configuration.xsd">
  <core xmlns="urn:activemq:core">
    <name>${assertPlainName(settings.name)}</name>
    <persistence-enabled>true</persistence-enabled>
    <journal-type>NIO</journal-type>
    <journal-datasync>true</journal-datasync>
    <journal-pool-files>10</journal-pool-files>
    <paging-directory>data/paging</paging-directory>
    <bindings-directory>data/bindings</bindings-directory>
    <journal-directory>data/journal</journal-directory>
    <large-messages-directory>data/large-messages</large-messages-directory>
    <acceptors>
${acceptors.join('\n')}
    </acceptors>
    <security-enabled>true</security-enabled>
${cluster ? `${cluster.elements}\n` : ''}${configuration.coreXml}
  </core>
</configuration>
`;
}
