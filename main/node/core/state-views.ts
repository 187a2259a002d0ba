import {
  EVENTS,
  type COMMANDS,
  type CommandOutput,
  type DirectoryState,
  type SetupState,
} from '../../../shared/api/index.ts';
import { createRunOnceScheduler } from '../../../shared/index.ts';
import { VaultUnavailableError } from '../vault/secret-vault.ts';
import { brokerPasswordAccount } from '../vault/vault-accounts.ts';
import type { CoreContext } from './core-context.ts';
import { outboxFailures } from '../messaging/traffic-views.ts';
import { outboxCounts } from '../../../transport/index.ts';

type OutboxState = CommandOutput<typeof COMMANDS.getOutboxState>;

/** The states the renderer asks for (set-up, directory, outbox), and the events that tell it they changed. */
const OUTBOX_EVENT_MS = 250;

export interface StateViews {
  readonly setupState: () => Promise<SetupState>;
  readonly directoryState: () => DirectoryState;
  readonly outboxState: () => OutboxState;
  /** Tells every window what changed in the set-up, and answers the command with the same state. */
  readonly setupChanged: () => Promise<SetupState>;
  readonly emitSetup: () => void;
  /** At most a few times a second (the inbox parks and releases messages in bursts). */
  readonly emitSetupSoon: () => void;
  readonly emitDirectory: () => void;
  readonly emitOutbox: () => void;
  /** At once unless the outbox was told of less than OUTBOX_EVENT_MS ago; then once, at the end of that time. */
  readonly emitOutboxPromptly: () => void;
  readonly emitOutboxSoon: () => void;
}

export function createStateViews(ctx: CoreContext): StateViews {
  const { settings, lock, emit, disposables } = ctx;

  /** Parked on the downlink (its sourceName) until the CRL is current again. */
  const waitingForCrl = () => ctx.parts?.transport.parked.counts('downlink').messages ?? 0;

  async function setupState(): Promise<SetupState> {
    const s = settings.read();
    const profile = s.profile;
    let hasBrokerPassword = false;
    if (profile) {
      try {
        hasBrokerPassword = (await ctx.options.vault.get(brokerPasswordAccount(profile.endpointId))) !== undefined;
      } catch (error) {
        if (!(error instanceof VaultUnavailableError)) throw error;
      }
    }
    const { parts, storeProblem, lockPolicy } = ctx;
    return {
      ...(storeProblem && { storeProblem }),
      ...(profile && { profile }),
      hasBrokerPassword,
      ...(parts && { identity: await parts.identity.status() }),
      registration: parts ? parts.registration.state() : { state: 'none' },
      ...(waitingForCrl() > 0 && { waitingForCrl: waitingForCrl() }),
      ui: s.ui,
      locked: lock.locked,
      hasLockPassphrase: lock.hasPassphrase(),
      ...(lockPolicy && { lockPolicy }),
    };
  }

  function directoryState(): DirectoryState {
    const { mirror, certificateChecks } = ctx.need();
    const version = mirror.version();
    const appliedAt = mirror.appliedAt();
    const state = ctx.connectionState();
    const { snapshot } = ctx;
    const unchecked = mirror.uncheckedCount();
    const checkedAt = certificateChecks.checkedAt();
    return {
      ...(version !== undefined && { version }),
      experts: mirror.count(),
      ...(appliedAt !== undefined && { appliedAt: new Date(appliedAt).toISOString() }),
      ...(version !== undefined && {
        asOf: state.status === 'online' ? new Date().toISOString() : (ctx.unreachableSince ?? state.since),
      }),
      ...(snapshot &&
        !snapshot.complete && {
          snapshot: { version: snapshot.version, received: snapshot.received, count: snapshot.count },
        }),
      behind: ctx.behind,
      ...(unchecked > 0 && { certificatesUnchecked: unchecked }),
      ...(checkedAt !== undefined && { certificatesCheckedAt: new Date(checkedAt).toISOString() }),
      refused: [...ctx.refused],
    };
  }

  function outboxState(): OutboxState {
    const { transport, cases } = ctx.need();
    return {
      ...outboxCounts(transport.outbox, ctx.link?.outbox),
      failures: outboxFailures(transport, cases),
      waiting: cases.waiting(100).map(({ createdAt, ...m }) => ({ ...m, at: new Date(createdAt).toISOString() })),
    };
  }

  let outboxEmittedAt = -Infinity;
  const emitOutbox = () => {
    outboxEmittedAt = performance.now();
    if (ctx.parts) emit(EVENTS.outboxChanged, outboxState());
  };
  // A draining outbox confirms in bursts: the UI hears of it at most a few times a second.
  const outboxSoon = disposables.add(createRunOnceScheduler(emitOutbox, OUTBOX_EVENT_MS));
  // Consults sent one after another queue many messages a second, and each state reads the outbox's counts, failures
  // and waiting list (1.7 % of P2's event loop at 1 KiB when told at every one): the first is told at once, the rest
  // at most every OUTBOX_EVENT_MS.
  const emitOutboxPromptly = () => {
    if (disposables.disposed || outboxSoon.scheduled) return;
    if (performance.now() - outboxEmittedAt >= OUTBOX_EVENT_MS) emitOutbox();
    else outboxSoon.schedule();
  };
  const emitSetup = () =>
    void setupState().then(
      (state) => emit(EVENTS.setupChanged, state),
      () => undefined,
    );
  const setupSoon = disposables.add(createRunOnceScheduler(emitSetup, 250));

  return {
    setupState,
    directoryState,
    outboxState,
    setupChanged: async () => {
      const state = await setupState();
      emit(EVENTS.setupChanged, state);
      return state;
    },
    emitSetup,
    emitSetupSoon: () => setupSoon.schedule(),
    emitDirectory: () => emit(EVENTS.directorySyncProgress, directoryState()),
    emitOutbox,
    emitOutboxPromptly,
    emitOutboxSoon: () => outboxSoon.schedule(),
  };
}
