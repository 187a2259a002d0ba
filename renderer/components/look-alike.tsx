/**
 * Marks a directory entry whose name and hospital read the same as an entry another clinic published. One of them may
 * be an impostor (a clinic publishing someone else's expert under its own directory id, with an encryption key it
 * holds), so the user is told which clinic published each before choosing.
 */
const publisherOf = (practitionerId: string) => practitionerId.slice(0, practitionerId.indexOf('.'));

function others(lookAlikes: readonly string[]): string {
  return [...new Set(lookAlikes.map(publisherOf))].join(', ');
}

/** A short badge for a list row: who published this entry, and who else lists the same name and hospital. */
export function LookAlikeBadge({
  practitionerId,
  lookAlikes,
}: {
  practitionerId: string;
  lookAlikes: readonly string[] | undefined;
}) {
  if (!lookAlikes || lookAlikes.length === 0) return null;
  return (
    <span
      className="badge look-alike"
      data-tone="warn"
      data-testid="look-alike"
      title={`Another clinic (${others(lookAlikes)}) lists an expert with the same name and hospital. Make sure this is the entry of the person you mean.`}
    >
      Look-alike · published by {publisherOf(practitionerId)}, also listed by {others(lookAlikes)}
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
  if (!lookAlikes || lookAlikes.length === 0) return null;
  return (
    <p className="field-error" role="note" data-testid="look-alike-warning">
      Look-alike: {lookAlikes.length === 1 ? 'another entry' : `${lookAlikes.length} other entries`} (
      {lookAlikes.join(', ')}) {lookAlikes.length === 1 ? 'has' : 'have'} the same name and hospital, published by{' '}
      {others(lookAlikes)}; this one is published by {publisherOf(practitionerId)}. Only the expert’s own clinic
      publishes their real entry: check which clinic that is before sending patient data.
    </p>
  );
}
