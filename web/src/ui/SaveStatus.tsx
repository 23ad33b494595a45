import type { ComponentChildren } from 'preact';
import { IconAlert } from './icons';

/**
 * The line beside a form's Save button: why the last save failed (announced, in red), else the
 * form's own note (changed by someone else), else unsaved changes, else "All changes saved.".
 * Every Settings form's save bar shows it, so a failure is said where the user is.
 */
export function SaveStatus({
  failure,
  dirty,
  note,
  class: cls = 'savebar-status',
}: {
  failure: string | null;
  dirty: boolean;
  /** A line that replaces the default wording (e.g. "Changed by someone else. Reload before saving."). */
  note?: ComponentChildren;
  class?: string;
}) {
  if (failure)
    return (
      <p class={`${cls} save-failed`} role="alert" data-testid="save-status">
        <IconAlert size={16} />
        <span>
          <strong>Not saved.</strong> {failure}
        </span>
      </p>
    );
  return (
    <p class={cls} aria-live="polite" data-testid="save-status">
      {note || (dirty ? 'You have unsaved changes.' : 'All changes saved.')}
    </p>
  );
}
