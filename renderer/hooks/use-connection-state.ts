import { useEffect, useState } from 'react';
import { COMMANDS, EVENTS, type ConnectionState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';

/** The broker connection as the core reports it: the current state first, then every change. */
export function useConnectionState(api: RtsApi): ConnectionState | undefined {
  const [state, setState] = useState<ConnectionState>();
  useEffect(() => {
    let live = true;
    // Subscribe before asking, so a change between the two is not missed; a late answer never overwrites an event.
    let sawEvent = false;
    const unsubscribe = api.on(EVENTS.connectionStateChanged, (next) => {
      sawEvent = true;
      setState(next);
    });
    void api.invoke(COMMANDS.getConnectionState).then((result) => {
      if (live && !sawEvent && result.ok) setState(result.value);
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [api]);
  return state;
}
