import type { ReactNode } from 'react';
import type { AppInfo, ConnectionState } from '../../shared/api/index.ts';
import { ConnectionBadge } from './connection-badge.tsx';

export function AppFrame({
  info,
  connection,
  demo,
  children,
}: {
  info: AppInfo | undefined;
  connection: ConnectionState | undefined;
  demo: boolean;
  children: ReactNode;
}) {
  return (
    <div className="app-frame">
      <header className="title-bar">
        <h1 className="product-name">{info?.productName ?? 'RTS Workstation'}</h1>
        {/* In the title bar, so that no screen of the demo can be mistaken for a real region's. */}
        {demo && (
          <p className="demo-label" role="note">
            Demo region: invented people, not for patient data
          </p>
        )}
        <ConnectionBadge state={connection} />
      </header>
      <main className="content">{children}</main>
      <footer className="status-bar">
        <span>Version {info?.version ?? '…'}</span>
      </footer>
    </div>
  );
}
