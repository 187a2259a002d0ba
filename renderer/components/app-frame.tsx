import type { ReactNode } from 'react';
import type { AppInfo, ConnectionState } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';
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
  const t = useT();
  return (
    <div className="app-frame">
      <header className="title-bar">
        <h1 className="product-name">{info?.productName ?? 'RTS Workstation'}</h1>
        {/* In the title bar, so that no screen of the demo can be mistaken for a real region's. */}
        {demo && (
          <p className="demo-label" role="note">
            {t('frame.demoLabel')}
          </p>
        )}
        <ConnectionBadge state={connection} />
      </header>
      <main className="content">{children}</main>
      <footer className="status-bar">
        <span>{t('frame.version', { version: info?.version ?? '…' })}</span>
      </footer>
    </div>
  );
}
