import { UPLINK, type StoredMessage } from '../../../transport/index.ts';
import { sealForOutbox, type SealInput } from '../messaging/seal-for-outbox.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

/** The outgoing path: a message sealed by this workstation's practitioner, then queued in the outbox for the link. */
export interface Outgoing {
  /** Sealed with this workstation's one practitioner's signing key (the `signAs` of shared parts is always them). */
  readonly seal: (input: SealInput & { signAs?: string }) => Promise<StoredMessage>;
  /** Inside the caller's transaction; the sender is woken after it. `bodyHeld`: the case store keeps the body. */
  readonly enqueue: (message: StoredMessage, orderKey: string, options?: { bodyHeld?: boolean }) => void;
}

export function createOutgoing(ctx: CoreContext, views: Pick<StateViews, 'emitOutboxPromptly'>): Outgoing {
  return {
    seal: async (input) => sealForOutbox(ctx.me().endpointId, await ctx.need().identity.signer(), input),
    enqueue: (message, orderKey, options) => {
      ctx.need().transport.outbox.enqueue({
        messageId: message.properties.message_id,
        orderKey,
        address: UPLINK,
        message,
        ...(options?.bodyHeld && { bodyHeld: true }),
      });
      // After the caller's transaction: the sender reads the outbox, which must hold the row by then.
      setImmediate(() => {
        ctx.link?.outbox.wake();
        views.emitOutboxPromptly();
      });
    },
  };
}
