import { COMMANDS, type RegionState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from './error-message.tsx';
import { useAction } from '../hooks/use-command.ts';

/**
 * Moving between the demo region and the user's own region. Each keeps its own store and keys, so nothing of one
 * shows in the other; the region left is closed until the user comes back to it.
 */
export function RegionSwitch({ api, region }: { api: RtsApi; region: RegionState }) {
  const { run, error, busy } = useAction(api, COMMANDS.switchRegion);
  if (region.active === 'demo') {
    return (
      <div className="region-switch">
        <p className="hint">
          This workstation is on the <strong>demo region</strong>: a broker, a hub and three clinics running on this
          computer, with invented experts and patients. Cases you make here stay in the demo.
        </p>
        <button type="button" disabled={busy || region.switching} onClick={() => void run({ to: 'own' })}>
          Go to my own region
        </button>
        <ErrorMessage error={error} />
      </div>
    );
  }
  if (!region.demoAvailable) return null;
  return (
    <div className="region-switch">
      <p className="hint">
        The demo region runs on this computer with invented experts and patients, to try every step before using a real
        region. Your own region is closed meanwhile; what is sent to you waits in its queue until you come back.
      </p>
      <button
        type="button"
        className="secondary"
        disabled={busy || region.switching}
        onClick={() => void run({ to: 'demo' })}
      >
        Open the demo region
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}

/** Shown while the host closes one region and opens the other. */
export function RegionOpening({ region }: { region: RegionState }) {
  return (
    <section className="panel" role="status" aria-live="polite">
      <h2 className="screen-title">{region.active === 'demo' ? 'Opening the demo region…' : 'Opening your region…'}</h2>
      {region.active === 'demo' && (
        <p className="hint">
          Starting a broker, the hub and three clinics on this computer. This takes about fifteen seconds.
        </p>
      )}
    </section>
  );
}
