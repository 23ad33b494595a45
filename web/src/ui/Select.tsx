import type { ComponentChildren, JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { useId } from 'preact/hooks';
import { IconAlert, IconChevronDown } from './icons';

export interface SelectOption {
  value: string;
  label: string;
  disabled?: boolean;
}

export interface SelectGroup {
  label: string;
  options: SelectOption[];
}

export type SelectProps = Omit<JSX.SelectHTMLAttributes<HTMLSelectElement>, 'label' | 'value' | 'onChange' | 'size'> & {
  label: ComponentChildren;
  /** Visually hides the label (it is still the accessible name). */
  hideLabel?: boolean;
  name: string;
  value: string;
  onValue: (value: string) => void;
  options?: SelectOption[];
  groups?: SelectGroup[];
  /** A first option with value "" (e.g. "Not set" or "All statuses"). */
  placeholder?: string;
  hint?: ComponentChildren;
  error?: string;
  optional?: boolean;
  disabled?: boolean;
  size?: 'sm' | 'md';
};

/**
 * A native <select> styled like the text inputs: keyboard, screen readers and phones get the
 * platform's own picker. A value missing from the options is kept as an extra option, so a saved
 * value the list does not know is never silently replaced.
 */
export const Select = forwardRef<HTMLSelectElement, SelectProps>(function Select(
  { label, hideLabel, name, value, onValue, options = [], groups, placeholder, hint, error, optional, id, size = 'md', class: cls, ...rest },
  ref,
) {
  const auto = useId();
  const selectId = (id as string | undefined) ?? `field-${name}-${auto}`;
  const hintId = `${selectId}-hint`;
  const errorId = `${selectId}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const all = groups ? groups.flatMap((g) => g.options) : options;
  const known = value === '' ? placeholder !== undefined : all.some((o) => o.value === value);

  return (
    <div class={['field', error && 'has-error', hideLabel && 'field-compact', cls].filter(Boolean).join(' ')}>
      <div class={hideLabel ? 'visually-hidden' : 'field-label-row'}>
        <label class="field-label" for={selectId}>
          {label}
          {optional && <span class="field-optional"> (optional)</span>}
        </label>
      </div>
      <div class="select-wrap">
        <select
          ref={ref}
          id={selectId}
          name={name}
          class={size === 'sm' ? 'input select select-sm' : 'input select'}
          value={value}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy}
          data-field={name}
          onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)}
          {...rest}
        >
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {!known && <option value={value}>{value}</option>}
          {groups
            ? groups.map((g) => (
                <optgroup key={g.label} label={g.label}>
                  {g.options.map((o) => (
                    <option key={o.value} value={o.value} disabled={o.disabled}>
                      {o.label}
                    </option>
                  ))}
                </optgroup>
              ))
            : options.map((o) => (
                <option key={o.value} value={o.value} disabled={o.disabled}>
                  {o.label}
                </option>
              ))}
        </select>
        <span class="select-chevron" aria-hidden="true">
          <IconChevronDown size={16} />
        </span>
      </div>
      {error && (
        <p class="field-error" id={errorId}>
          <IconAlert size={14} />
          <span>{error}</span>
        </p>
      )}
      {hint && (
        <p class="field-hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
});
