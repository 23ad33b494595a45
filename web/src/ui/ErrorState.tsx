import { ApiError } from '../api';
import { Button } from './Button';
import { IconAlert } from './icons';

/** A failed load: what went wrong, in words, and a way to try again. */
export function ErrorState({
  error,
  title,
  onRetry,
  retrying,
}: {
  error?: unknown;
  title?: string;
  onRetry?: () => void;
  retrying?: boolean;
}) {
  const api = error instanceof ApiError ? error : null;
  const heading = title ?? (api ? api.title : 'Something went wrong');
  const detail =
    api?.detail ??
    (api?.status === 0 ? 'Check your connection and try again.' : 'The page could not be loaded. Try again in a moment.');
  return (
    <div class="error-state" role="alert">
      <div class="error-state-icon" aria-hidden="true">
        <IconAlert size={20} />
      </div>
      <p class="error-state-title">{heading}</p>
      <p class="error-state-text">{detail}</p>
      {onRetry && (
        <Button size="sm" onClick={onRetry} loading={retrying}>
          Try again
        </Button>
      )}
    </div>
  );
}
