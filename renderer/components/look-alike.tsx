import { useIntl, type IntlShape } from 'react-intl';

/**
 * Marks a directory entry whose name and hospital read the same as an entry another clinic published. One of them may
 * be an impostor (a clinic publishing someone else's expert under its own directory id, with an encryption key it
 * holds), so the user is told which clinic published each before choosing.
 */
const publisherOf = (practitionerId: string) => practitionerId.slice(0, practitionerId.indexOf('.'));

/** Directory ids or clinics as a list of the user's language ("a, b, c"). */
function listed(intl: IntlShape, items: readonly string[]): string {
  return intl.formatList(items, { type: 'conjunction', style: 'narrow' });
}

function others(intl: IntlShape, lookAlikes: readonly string[]): string {
  return listed(intl, [...new Set(lookAlikes.map(publisherOf))]);
}

/** A short badge for a list row: who published this entry, and who else lists the same name and hospital. */
export function LookAlikeBadge({
  practitionerId,
  lookAlikes,
}: {
  practitionerId: string;
  lookAlikes: readonly string[] | undefined;
}) {
  const intl = useIntl();
  if (!lookAlikes || lookAlikes.length === 0) return null;
  return (
    <span
      className="badge look-alike"
      data-tone="warn"
      data-testid="look-alike"
      title={intl.formatMessage({ id: 'case.lookAlike.title' }, { others: others(intl, lookAlikes) })}
    >
      {intl.formatMessage(
        { id: 'case.lookAlike.badge' },
        { publisher: publisherOf(practitionerId), others: others(intl, lookAlikes) },
      )}
    </span>
  );
}

/** The longer warning for an expert's details and the chosen expert of a new request. */
export function LookAlikeWarning({
  practitionerId,
  lookAlikes,
}: {
  practitionerId: string;
  lookAlikes: readonly string[] | undefined;
}) {
  const intl = useIntl();
  if (!lookAlikes || lookAlikes.length === 0) return null;
  return (
    <p className="field-error" role="note" data-testid="look-alike-warning">
      {intl.formatMessage(
        { id: 'case.lookAlike.warning' },
        {
          count: lookAlikes.length,
          entries: listed(intl, lookAlikes),
          others: others(intl, lookAlikes),
          publisher: publisherOf(practitionerId),
        },
      )}
    </p>
  );
}
