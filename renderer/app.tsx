import type { RtsApi } from '../preload/rts-api.ts';
import { AppFrame } from './components/app-frame.tsx';
import { ConnectionPanel } from './components/connection-panel.tsx';
import { useAppInfo } from './hooks/use-app-info.ts';
import { useConnectionState } from './hooks/use-connection-state.ts';

export function App({ api }: { api: RtsApi }) {
  const info = useAppInfo(api);
  const connection = useConnectionState(api);
  return (
    <AppFrame info={info} connection={connection}>
      <ConnectionPanel state={connection} />
    </AppFrame>
  );
}
