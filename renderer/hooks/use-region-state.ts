import { useEffect, useState } from 'react';
import { COMMANDS, EVENTS, type RegionState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';

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
