import { EVENTS } from '../../../shared/api/index.ts';
import { plainAmqpProblem } from '../../../shared/broker/index.ts';
import { assertEndpointId, HUB_SENDER, PROTOCOL_VERSION } from '../../../shared/protocol/index.ts';
import { buildEndpointRegister } from '../../../shared/protocol/fhir/index.ts';
import {
  brokerAdapterFor,
  createBrokerConnection,
  createInboxReceiver,
  createOutboxSender,
} from '../../../transport/index.ts';
import { createBaseFhirValidator } from '../../../shared-node/index.ts';
import { AUDIT_ACTIONS } from '../audit/audit-log.ts';
import { createDirectorySync } from '../directory/directory-sync.ts';
import { createDownlinkHandler } from '../messaging/downlink-handler.ts';
import type { ConnectionProfile } from '../settings/workstation-settings.ts';
import { VaultUnavailableError } from '../vault/secret-vault.ts';
import { brokerPasswordAccount } from '../vault/vault-accounts.ts';
import type { CoreContext, Link } from './core-context.ts';
import type { Outgoing } from './outgoing.ts';
import type { StateViews } from './state-views.ts';

/** The broker link: connection, outbox sender, downlink receiver, and this workstation's registration at the hub. */
export interface CoreLink {
  /** Connects with the saved profile, if there is one and nothing is connected yet. */
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The downlink is read only once an identity is installed: without it nothing could be opened. */
  startReceiving(): Promise<void>;
}

export function plainProfileProblem(profile: ConnectionProfile): string | undefined {
  return profile.tls
    ? undefined
    : plainAmqpProblem(profile.hosts, "choose the broker's CA certificate to connect with amqps");
}

export function createCoreLink(ctx: CoreContext, views: StateViews, outgoing: Outgoing): CoreLink {
  const { options, settings, emit, logger } = ctx;
  const { seal, enqueue } = outgoing;

  async function connect(): Promise<void> {
    if (ctx.link || !ctx.parts) return;
    const profile = settings.read().profile;
    if (!profile) return;
    // A profile saved before plain AMQP was refused, or provisioned from outside: stay offline and say why.
    const plain = plainProfileProblem(profile);
    if (plain) {
      logger.warn('core.link-refused', { reason: 'plain-amqp' });
      ctx.setStandaloneState('offline', plain, { code: 'invalid-request', reason: 'connection-plain-amqp' });
      return;
    }
    const endpointId = assertEndpointId(profile.endpointId);
    const account = brokerPasswordAccount(endpointId);
    let stored: string | undefined;
    try {
      stored = await options.vault.get(account);
    } catch (error) {
      if (!(error instanceof VaultUnavailableError)) throw error;
      logger.warn('core.link-refused', { endpointId, reason: 'keychain-unavailable' });
      ctx.setStandaloneState('offline', `${error.message}. ${error.hint}`, {
        code: 'keychain-unavailable',
        reason: error.reason,
      });
      return;
    }
    if (stored === undefined) {
      logger.warn('core.link-refused', { endpointId, reason: 'no-broker-password' });
      ctx.setStandaloneState('offline', `No broker password for endpoint ${endpointId} in the OS keychain.`, {
        code: 'not-configured',
        reason: 'broker-password-missing',
        params: { endpointId },
      });
      return;
    }
    const connection = createBrokerConnection({
      hosts: profile.hosts,
      vhost: profile.vhost,
      username: endpointId,
      containerId: endpointId,
      adapter: brokerAdapterFor(profile.brokerKind),
      ...(profile.tls && {
        tls: { ca: profile.tls.caPem, ...(profile.tls.servername && { servername: profile.tls.servername }) },
      }),
      ...(options.reconnectDelayMs && { reconnectDelayMs: options.reconnectDelayMs }),
      logger,
      password: async () => {
        const password = await options.vault.get(account);
        if (password === undefined) throw new Error(`broker password for ${endpointId} vanished from the keychain`);
        return password;
      },
    });
    const current: Link = {
      connection,
      outbox: createOutboxSender({
        connection,
        outbox: ctx.parts.transport.outbox,
        endpointId,
        retryDelayMs: 1_000,
        onChange: views.emitOutboxSoon,
        logger,
      }),
    };
    ctx.link = current;
    logger.info('core.link-opened', { endpointId, hosts: profile.hosts.length });
    connection.onStateChanged((state) => {
      ctx.unreachableSince = state.status === 'online' ? undefined : (ctx.unreachableSince ?? state.since);
      emit(EVENTS.connectionStateChanged, ctx.connectionState());
      views.emitOutbox();
    });
    await connection.start();
    await startReceiving();
  }

  async function startReceiving(): Promise<void> {
    const { link, parts } = ctx;
    if (!link || link.receiver || !parts) return;
    const status = await parts.identity.status();
    if (!status.ready) {
      logger.info('core.receiving-deferred', { reason: 'identity-not-ready' });
      return;
    }
    const { identity, consult, mirror, registration, transport, local } = parts;
    const endpointId = ctx.me().endpointId;
    const pending: (() => void)[] = [];
    // Told after the commit, on the next turn; or when the link closes, before the store it reads can close.
    link.flushCommitted = () => pending.splice(0).forEach((n) => n());
    link.baseFhir = createBaseFhirValidator({
      ...(options.fhirWorker && { workerScript: options.fhirWorker }),
      onWorkerError: (error) => logger.warn('core.validation-worker-failed', { error: error.name }),
    });
    const handle = createDownlinkHandler({
      local,
      baseFhir: link.baseFhir,
      trust: () => identity.trust(),
      hubCertificate: () => identity.hubCertificate(),
      consult,
      mirror,
      registration,
      sync: createDirectorySync({ mirror }),
      seal,
      enqueue,
      afterCommit: (notify) => {
        if (pending.push(notify) === 1) setImmediate(link.flushCommitted!);
      },
      onSnapshotProgress: (progress) => {
        ctx.snapshot = progress;
        views.emitDirectory();
      },
      onDirectoryChanged: (newlyRefused) => {
        if (newlyRefused.length > 0)
          ctx.refused = [
            ...ctx.refused.filter((r) => !newlyRefused.some((n) => n.practitionerId === r.practitionerId)),
            ...newlyRefused,
          ].slice(-1_000);
        views.emitDirectory();
        parts.certificateChecks.schedule();
        // The signing certificate in use follows the directory's entry of this practitioner (Settings says which). At
        // most a few times a second: the setup state asks the keychain, and a full list arrives as 100 updates.
        views.emitSetupSoon();
      },
      onBehind: (value) => {
        ctx.behind = value;
        views.emitDirectory();
      },
      onCaseChanged: (caseId, isNew) => emit(EVENTS.caseChanged, { summary: consult.summaryOf(caseId), isNew }),
      onNotice: () => views.emitSetup(),
      // A CRL applied changes the trust: what waited for it (parked in the inbox) is handled again.
      applyCrl: async (der) => {
        const outcome = await identity.applyCrl(der);
        if (outcome === 'applied') ctx.link?.receiver?.handleParkedAgain();
        return outcome;
      },
      // Every CRL the hub sends leaves a line: applied, or why nothing changed. The setup event after it refreshes the UI.
      // The CRL held already comes after every registration: nothing happened, so nothing is logged.
      onCrl: (outcome, detail) =>
        outcome !== 'held' &&
        ctx.parts?.audit.append({
          actor: HUB_SENDER,
          action: outcome === 'applied' ? AUDIT_ACTIONS.crlApplied : AUDIT_ACTIONS.crlIgnored,
          subject: 'crl',
          detail,
        }),
    });
    link.receiver = createInboxReceiver({
      connection: link.connection,
      source: link.connection.adapter.downlinkSource(endpointId),
      sourceName: 'downlink',
      inbox: transport.inbox,
      deadLetters: transport.deadLetters,
      handle,
      parked: transport.parked,
      // The CRL banner says how many messages wait for a current revocation list.
      onParkChanged: views.emitSetupSoon,
      logger,
    });
    logger.info('core.receiving', { endpointId });
    await ensureRegistered();
  }

  async function ensureRegistered(): Promise<void> {
    const { registration, audit } = ctx.need();
    const { endpointId, practitionerId } = ctx.me();
    const state = registration.state();
    if ((state.state === 'requested' || state.state === 'accepted') && state.endpointId === endpointId) return;
    const message = await seal({
      properties: { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: endpointId },
      payload: (messageId, timestamp) =>
        buildEndpointRegister(
          { messageId, timestamp, sender: endpointId },
          {
            kind: 'workstation',
            name: `${options.productName} ${endpointId}`,
            organization: options.organization ?? practitionerId.slice(0, practitionerId.indexOf('.')),
          },
        ),
    });
    ctx.need().db.transaction(() => {
      enqueue(message, 'registration');
      registration.requested(message.properties.message_id, endpointId);
      logger.info('core.registration-queued', { endpointId, messageId: message.properties.message_id });
      audit.append({
        actor: practitionerId,
        action: AUDIT_ACTIONS.registered,
        subject: `endpoint:${endpointId}`,
        detail: 'registration queued',
      });
    })();
  }

  async function disconnect(): Promise<void> {
    const current = ctx.link;
    ctx.link = undefined;
    if (!current) return;
    await current.receiver?.stop();
    await current.baseFhir?.close();
    current.flushCommitted?.();
    current.outbox.stop();
    await current.connection.stop();
    ctx.standaloneState = current.connection.state;
    logger.info('core.link-closed');
  }

  return { connect, disconnect, startReceiving };
}
