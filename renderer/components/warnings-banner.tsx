import { useIntl } from 'react-intl';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { ConnectionState, SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useDirectoryState } from '../hooks/use-directory-state.ts';
import { warningsFor, workstationWarnings, type Warning, type WarningPlace } from './workstation-warnings.ts';

const WarningsContext = createContext<readonly Warning[]>([]);

/**
 * The warnings of workstation-warnings.ts, looked at again each minute, for the banner and for every screen under
 * it: worked out once, so that a screen says what the banner says, at the same moment.
 */
export function WarningsProvider({
  api,
  setup,
  connection,
  children,
}: {
  api: RtsApi;
  setup: SetupState;
  connection: ConnectionState | undefined;
  children: ReactNode;
}) {
  const directory = useDirectoryState(api);
  const intl = useIntl();
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  const warnings = workstationWarnings({
    intl,
    certificates: setup.identity?.certificates,
    directoryAsOf: directory.state?.asOf ?? directory.state?.appliedAt,
    // The core's moment the region was left, whatever the retries since (each moves `since`).
    connection: connection && { ...connection, since: connection.unreachableSince ?? connection.since },
    now,
  });
  return <WarningsContext value={warnings}>{children}</WarningsContext>;
}

/** Every warning, above every screen. */
export function WarningsBanner() {
  const warnings = useContext(WarningsContext);
  if (warnings.length === 0) return null;
  return (
    <div className="warnings" role="status" data-testid="workstation-warnings">
      <WarningLines warnings={warnings} />
    </div>
  );
}

/** The warnings that matter on this screen, in its words, where the user acts (beside the search, the certificate…). */
export function PlaceWarnings({ place }: { place: WarningPlace }) {
  const warnings = warningsFor(useIntl(), place, useContext(WarningsContext));
  if (warnings.length === 0) return null;
  return (
    // No live region: the banner above already announces each warning once.
    <div className="warnings" data-testid={`${place}-warnings`}>
      <WarningLines warnings={warnings} />
    </div>
  );
}

function WarningLines({ warnings }: { warnings: readonly Warning[] }) {
  return warnings.map((w) => (
    <p key={w.id + w.title} className="warning" data-tone={w.tone} data-warning={w.id}>
      <strong>{w.title}</strong> {w.text}
    </p>
  ));
}
