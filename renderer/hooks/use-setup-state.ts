import { useEffect, useState } from 'react';
import { COMMANDS, EVENTS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';

/** What is set up (region, identity, registration, lock): asked once, then kept current by events. */
export function useSetupState(api: RtsApi): { state: SetupState | undefined; refresh: () => void } {
  const [state, setState] = useState<SetupState>();
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    const offSetup = api.on(EVENTS.setupChanged, (next) => setState(next));
    const offLock = api.on(EVENTS.lockChanged, ({ locked }) => setState((s) => s && { ...s, locked }));
    void api.invoke(COMMANDS.getSetupState).then((result) => {
      if (live && result.ok) setState(result.value);
    });
    return () => {
      live = false;
      offSetup();
      offLock();
    };
  }, [api, generation]);
  return { state, refresh: () => setGeneration((g) => g + 1) };
}
