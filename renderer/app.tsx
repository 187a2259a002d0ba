import { useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS, type RegionState, type SetupState } from '../shared/api/index.ts';
import type { RtsApi } from '../preload/index.ts';
import type { MessageId } from '../shared/i18n/index.ts';
import { AppFrame } from './components/app-frame.tsx';
import { ConnectionPanel } from './components/connection-panel.tsx';
import { ErrorMessage } from './components/error-message.tsx';
import { LockScreen, PassphraseRequiredScreen } from './components/lock-screen.tsx';
import { CrlBanner } from './components/crl-banner.tsx';
import { OfflineBanner } from './components/offline-banner.tsx';
import { WarningsBanner, WarningsProvider } from './components/warnings-banner.tsx';
import { RegionOpening } from './components/region-switch.tsx';
import { useAppInfo } from './hooks/use-app-info.ts';
import { useCommand, useEvent } from './hooks/use-command.ts';
import { useConnectionState } from './hooks/use-connection-state.ts';
import { useRegionState } from './hooks/use-region-state.ts';
import { useSetupState } from './hooks/use-setup-state.ts';
import { useT } from './i18n/index.ts';
import type { Navigate, View } from './navigation.ts';
import { CaseScreen } from './screens/case-screen.tsx';
import { ComposeScreen } from './screens/compose-screen.tsx';
import { DirectoryScreen } from './screens/directory-screen.tsx';
import { FirstRunScreen } from './screens/first-run-screen.tsx';
import { InboxScreen } from './screens/inbox-screen.tsx';
import { OutboxScreen } from './screens/outbox-screen.tsx';
import { RejectionsScreen } from './screens/rejections-screen.tsx';
import { SettingsScreen } from './screens/settings-screen.tsx';

export function App({ api }: { api: RtsApi }) {
  const region = useRegionState(api);
  // Every screen starts afresh in another region: nothing of one region's state may show in the other.
  return <RegionApp key={region?.active ?? 'own'} api={api} region={region} />;
}

function RegionApp({ api, region }: { api: RtsApi; region: RegionState | undefined }) {
  const info = useAppInfo(api);
  const connection = useConnectionState(api);
  const { state: setup } = useSetupState(api);
  return (
    <AppFrame info={info} connection={connection} demo={region?.active === 'demo' || setup?.profile?.demo === true}>
      <ErrorMessage error={region?.problem} />
      {region?.switching ? (
        <RegionOpening region={region} />
      ) : !setup ? (
        <ConnectionPanel state={connection} />
      ) : setup.locked ? (
        <LockScreen api={api} />
      ) : isSetUp(setup) && setup.lockPolicy === 'required' && !setup.hasLockPassphrase ? (
        <PassphraseRequiredScreen api={api} setup={setup} />
      ) : isSetUp(setup) ? (
        <WarningsProvider api={api} setup={setup} connection={connection}>
          <Workspace api={api} setup={setup} region={region} connection={connection} />
        </WarningsProvider>
      ) : (
        <>
          <FirstRunScreen api={api} setup={setup} region={region} />
          <ConnectionPanel state={connection} />
        </>
      )}
    </AppFrame>
  );
}

function isSetUp(setup: SetupState): boolean {
  return !setup.storeProblem && !!setup.identity?.ready && !!setup.profile && setup.hasBrokerPassword;
}

const NAV: readonly { view: View; label: MessageId }[] = [
  { view: { name: 'inbox' }, label: 'frame.nav.inbox' },
  { view: { name: 'directory' }, label: 'frame.nav.directory' },
  { view: { name: 'compose' }, label: 'frame.nav.compose' },
  { view: { name: 'outbox' }, label: 'frame.nav.outbox' },
  { view: { name: 'rejections' }, label: 'frame.nav.rejections' },
  { view: { name: 'settings' }, label: 'frame.nav.settings' },
];

function Workspace({
  api,
  setup,
  region,
  connection,
}: {
  api: RtsApi;
  setup: SetupState;
  region: RegionState | undefined;
  connection: ReturnType<typeof useConnectionState>;
}) {
  const t = useT();
  const intl = useIntl();
  const [view, setView] = useState<View>({ name: 'inbox' });
  const navigate: Navigate = setView;
  // A click on an OS notification (the Electron shell): its case, or the inbox.
  useEvent(api, EVENTS.openRequested, ({ caseId }) => setView(caseId ? { name: 'case', caseId } : { name: 'inbox' }));
  const outbox = useCommand(api, COMMANDS.getOutboxState, undefined);
  useEvent(api, EVENTS.outboxChanged, outbox.reload);
  const pending = (outbox.value?.pending ?? 0) + (outbox.value?.inFlight ?? 0);
  const failed = outbox.value?.failed ?? 0;
  return (
    <div className="workspace">
      <nav className="side-nav" aria-label={t('frame.nav.label')}>
        <ul>
          {NAV.map((item) => (
            <li key={item.view.name}>
              <button
                type="button"
                aria-current={activeSection(view) === item.view.name ? 'page' : undefined}
                onClick={() => navigate(item.view)}
              >
                {t(item.label)}
                {item.view.name === 'outbox' && pending > 0 && (
                  <span className="count" aria-label={t('frame.nav.waiting', { count: pending })}>
                    {intl.formatNumber(pending)}
                  </span>
                )}
                {item.view.name === 'outbox' && failed > 0 && (
                  <span className="count" data-tone="bad" aria-label={t('frame.nav.failed', { count: failed })}>
                    !
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <p className="whoami">
          {setup.identity?.practitionerId}
          <br />
          {setup.profile?.endpointId}
        </p>
        {setup.hasLockPassphrase && (
          <button type="button" className="secondary" onClick={() => void api.invoke(COMMANDS.lock)}>
            {t('frame.lockNow')}
          </button>
        )}
      </nav>
      <div className="workspace-main">
        <OfflineBanner connection={connection} pending={pending} />
        <CrlBanner trust={setup.identity?.trust} {...(setup.waitingForCrl && { waiting: setup.waitingForCrl })} />
        <WarningsBanner />
        {view.name === 'inbox' && <InboxScreen api={api} navigate={navigate} />}
        {view.name === 'case' && <CaseScreen key={view.caseId} api={api} caseId={view.caseId} navigate={navigate} />}
        {view.name === 'directory' && <DirectoryScreen api={api} navigate={navigate} />}
        {view.name === 'compose' && (
          <ComposeScreen
            key={`${view.expertId ?? ''}|${view.from?.caseId ?? ''}|${view.from?.take ?? ''}`}
            api={api}
            navigate={navigate}
            {...(view.expertId && { expertId: view.expertId })}
            {...(view.from && { from: view.from })}
          />
        )}
        {view.name === 'outbox' && <OutboxScreen api={api} navigate={navigate} />}
        {view.name === 'rejections' && <RejectionsScreen api={api} navigate={navigate} />}
        {view.name === 'settings' && <SettingsScreen api={api} setup={setup} region={region} />}
      </div>
    </div>
  );
}

function activeSection(view: View): View['name'] {
  return view.name === 'case' ? 'inbox' : view.name;
}
