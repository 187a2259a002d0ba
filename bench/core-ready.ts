import { COMMANDS, type DirectoryState } from '../shared/api/index.ts';
import type { WorkstationCore } from '../main/node/index.ts';

/** Resolves once the core's registration is accepted and its mirror holds `experts` experts (within 120 s). */
export async function untilRegistered(core: WorkstationCore, endpointId: string, experts: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const setup = await core.dispatch(COMMANDS.getSetupState, undefined);
    const directory = await core.dispatch(COMMANDS.getDirectoryState, undefined);
    if (
      setup.ok &&
      directory.ok &&
      (setup.value as { registration: { state: string } }).registration.state === 'accepted' &&
      (directory.value as DirectoryState).experts === experts
    )
      return;
    if (Date.now() > deadline) throw new Error(`${endpointId}: not registered with the directory mirrored after 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
