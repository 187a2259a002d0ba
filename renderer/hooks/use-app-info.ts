import { useEffect, useState } from 'react';
import { COMMANDS, type AppInfo } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';

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
