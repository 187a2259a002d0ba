import { useEffect, useState } from 'react';
import { COMMANDS } from '../../shared/api/channels.ts';
import type { AppInfo } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';

export function useAppInfo(api: RtsApi): AppInfo | undefined {
  const [info, setInfo] = useState<AppInfo>();
  useEffect(() => {
    let live = true;
    void api.invoke(COMMANDS.getAppInfo).then((result) => {
      if (live && result.ok) setInfo(result.value);
    });
    return () => {
      live = false;
    };
  }, [api]);
  return info;
}
