import { useEffect, useState } from 'react';
import { COMMANDS, EVENTS } from '../../shared/api/channels.ts';
import type { RegionState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';

/** Which region the workstation works in (own or demo), and whether it is between the two: asked once, then kept by events. */
export function useRegionState(api: RtsApi): RegionState | undefined {
  const [state, setState] = useState<RegionState>();
  useEffect(() => {
    let live = true;
    const off = api.on(EVENTS.regionChanged, (next) => setState(next));
    void api.invoke(COMMANDS.getRegionState).then((result) => {
      if (live && result.ok) setState((current) => current ?? result.value);
    });
    return () => {
      live = false;
      off();
    };
  }, [api]);
  return state;
}
