import { useEffect, useState } from 'react';
import type { ConnectionState, SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useDirectoryState } from '../hooks/use-directory-state.ts';
import { workstationWarnings } from './workstation-warnings.ts';

/** The warnings of workstation-warnings.ts above every screen, looked at again each minute. */
export function WarningsBanner({
  api,
  setup,
  connection,
}: {
  api: RtsApi;
  setup: SetupState;
  connection: ConnectionState | undefined;
}) {
  const directory = useDirectoryState(api);
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 60_000);
    return () => clearInterval(timer);
  }, []);
  const warnings = workstationWarnings({
    certificates: setup.identity?.certificates,
    directoryAsOf: directory.state?.asOf ?? directory.state?.appliedAt,
    connection,
    now,
  });
  if (warnings.length === 0) return null;
  return (
    <div className="warnings" role="status" data-testid="workstation-warnings">
      {warnings.map((w) => (
        <p key={w.id + w.title} className="warning" data-tone={w.tone} data-warning={w.id}>
          <strong>{w.title}</strong> {w.text}
        </p>
      ))}
    </div>
  );
}
