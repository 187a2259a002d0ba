import type { ApiError } from '../../shared/api/index.ts';

/** A refusal from the core, in its own words; `role="alert"` so a screen reader says it at once. */
export function ErrorMessage({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <p className="error-message" role="alert" data-code={error.code}>
      {error.message}
    </p>
  );
}
