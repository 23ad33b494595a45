import type { JSX } from 'preact';
import { IconLock } from './icons';

/**
 * An on/off switch: a button with role="switch" and aria-checked. Its accessible name comes from
 * `label` (rendered visually hidden when hideLabel is set, e.g. in a grid whose column says it).
 */
export function Switch({
  checked,
  onChange,
  label,
  hideLabel,
  disabled,
  locked,
  busy,
  describedBy,
  ...rest
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  label: string;
  hideLabel?: boolean;
  disabled?: boolean;
  /** Shown on and unchangeable, with a lock. */
  locked?: boolean;
  busy?: boolean;
  describedBy?: string;
} & Omit<JSX.HTMLAttributes<HTMLButtonElement>, 'onChange' | 'label'>) {
  const off = disabled || locked;
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-disabled={off || undefined}
      aria-busy={busy || undefined}
      aria-describedby={describedBy}
      class={['switch', checked && 'is-on', locked && 'is-locked', off && 'is-disabled'].filter(Boolean).join(' ')}
      onClick={() => {
        if (!off && !busy) onChange(!checked);
      }}
      {...rest}
    >
      <span class="switch-track" aria-hidden="true">
        <span class="switch-thumb">{locked && <IconLock size={10} />}</span>
      </span>
      <span class={hideLabel ? 'visually-hidden' : 'switch-label'}>{label}</span>
    </button>
  );
}
