import { memo } from 'react';
import { useIntl } from 'react-intl';
import type { InboxRow } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import { PRIORITY_LABEL, PRIORITY_TONE, ageSexText, statusLabel, waitingText } from '../components/case-format.ts';
import { attentionText } from '../components/reason-words.ts';
import { useT } from '../i18n/index.ts';

const WAITING_WORDS: Readonly<Record<InboxRow['waitingOn'], MessageId>> = {
  me: 'inbox.row.waitsOnYou',
  them: 'inbox.row.waitsOnThem',
  nobody: 'inbox.row.closed',
};

/**
 * One case as a clinician triages it: urgency, patient, reason, who, how long and on whom it waits, and its state.
 * Drawn again only when its row or the time of reading changes (not at each keystroke of a search).
 */
export const CaseRow = memo(function CaseRow({ summary: c, now }: { summary: InboxRow; now: Date }) {
  const intl = useIntl();
  const t = useT();
  const priority = c.priority ?? 'routine';
  const party = c.otherParty;
  const who = party.name ?? party.practitionerId;
  const dateTime = (iso: string) => intl.formatDate(iso, { dateStyle: 'short', timeStyle: 'short' });
  return (
    <>
      <span>
        <span className="badge" data-tone={PRIORITY_TONE[priority]}>
          {t(PRIORITY_LABEL[priority])}
        </span>
        {c.escalated && (
          <span className="badge escalated-mark" data-tone="bad" title={t('inbox.row.lateTitle')}>
            {t('inbox.row.late')}
          </span>
        )}
      </span>
      <span className="inbox-two-lines">
        {c.patient ? (
          <span>
            <span className="inbox-strong">{c.patient.name || t('common.noName')}</span>{' '}
            <span className="inbox-quiet">{ageSexText(intl, c.patient.birthDate, c.patient.gender, now)}</span>
          </span>
        ) : (
          <span className="inbox-quiet">{t('inbox.row.noPatient')}</span>
        )}
        <span className="inbox-quiet">{c.reason ?? ''}</span>
      </span>
      <span
        className="inbox-two-lines"
        title={`${party.practitionerId}${party.specialties ? ` · ${party.specialties}` : ''}`}
      >
        <span>{c.role === 'applicant' ? t('inbox.row.to', { name: who }) : t('inbox.row.from', { name: who })}</span>
        <span className="inbox-quiet">{party.hospital ?? ''}</span>
      </span>
      <span>
        {c.unread && <span className="badge unread-mark">{t('inbox.row.unread')}</span>}
        {statusLabel(intl, c.status)}
      </span>
      <span className="inbox-two-lines" title={t('inbox.row.since', { date: dateTime(c.statusSince) })}>
        {c.waitingOn === 'nobody' ? (
          <time dateTime={c.updatedAt}>{dateTime(c.updatedAt)}</time>
        ) : (
          <>
            <time dateTime={c.statusSince}>{waitingText(intl, c.statusSince, now)}</time>
            <span className="inbox-quiet">{t(WAITING_WORDS[c.waitingOn])}</span>
          </>
        )}
      </span>
      <span>
        {c.attention && (
          <span className="badge" data-tone="bad" title={attentionText(intl, c.attention)}>
            {attentionText(intl, c.attention)}
          </span>
        )}
      </span>
    </>
  );
});
