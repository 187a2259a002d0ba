import type { ReactNode } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type RegionState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from './error-message.tsx';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';

const strong = (chunks: ReactNode[]) => <strong>{chunks}</strong>;

/**
 * Moving between the demo region and the user's own region. Each keeps its own store and keys, so nothing of one
 * shows in the other; the region left is closed until the user comes back to it.
 */
export function RegionSwitch({ api, region }: { api: RtsApi; region: RegionState }) {
  const t = useT();
  const intl = useIntl();
  const { run, error, busy } = useAction(api, COMMANDS.switchRegion);
  if (region.active === 'demo') {
    return (
      <div className="region-switch">
        <p className="hint">{intl.formatMessage({ id: 'frame.region.onDemo' }, { strong })}</p>
        <button type="button" disabled={busy || region.switching} onClick={() => void run({ to: 'own' })}>
          {t('frame.region.goOwn')}
        </button>
        <ErrorMessage error={error} />
      </div>
    );
  }
  if (!region.demoAvailable) return null;
  return (
    <div className="region-switch">
      <p className="hint">{t('frame.region.demoOffer')}</p>
      <button
        type="button"
        className="secondary"
        disabled={busy || region.switching}
        onClick={() => void run({ to: 'demo' })}
      >
        {t('frame.region.openDemo')}
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}

/** Shown while the host closes one region and opens the other. */
export function RegionOpening({ region }: { region: RegionState }) {
  const t = useT();
  return (
    <section className="panel" role="status" aria-live="polite">
      <h2 className="screen-title">
        {t(region.active === 'demo' ? 'frame.region.openingDemo' : 'frame.region.openingOwn')}
      </h2>
      {region.active === 'demo' && <p className="hint">{t('frame.region.openingDemoHint')}</p>}
    </section>
  );
}
