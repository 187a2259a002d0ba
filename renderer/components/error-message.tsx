import { useIntl } from 'react-intl';
import type { ApiError } from '../../shared/api/index.ts';
import { errorText } from './error-words.ts';

/**
 * A refusal from the core in the user's language (its reason's words, never its English message); `role="alert"` so
 * a screen reader says it at once.
 */
export function ErrorMessage({ error }: { error: Pick<ApiError, 'code' | 'reason' | 'params'> | undefined }) {
  const intl = useIntl();
  if (!error) return null;
  return (
    <p className="error-message" role="alert" data-code={error.code} data-reason={error.reason}>
      {errorText(intl, error)}
    </p>
  );
}
