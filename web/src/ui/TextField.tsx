import type { ComponentChildren, JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { useId, useState } from 'preact/hooks';
import { IconAlert, IconEye, IconEyeOff } from './icons';

export type TextFieldProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'label' | 'onInput' | 'value'> & {
  /** The visible label; every input has one. */
  label: ComponentChildren;
  /** The form field name; problem+json errors[] for this `field` are shown here (see useForm). */
  name: string;
  value: string;
  onValue: (value: string) => void;
  /** Help text shown below the input before the user types (e.g. the minimum length rule). */
  hint?: ComponentChildren;
  /** Error text; marks the input invalid and is announced with it (aria-describedby). */
  error?: string;
  /** Right-aligned extra in the label row (e.g. a "Forgot password?" link). */
  labelAside?: ComponentChildren;
  type?: 'text' | 'email' | 'password' | 'search' | 'url' | 'tel' | 'number' | 'date';
  /** For type=password: a show/hide toggle button. */
  revealable?: boolean;
  required?: boolean;
  /** Marks the label "(optional)". */
  optional?: boolean;
  autoComplete?: string;
};

export const TextField = forwardRef<HTMLInputElement, TextFieldProps>(function TextField(
  { label, name, value, onValue, hint, error, labelAside, type = 'text', revealable, id, required, optional, class: cls, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = (id as string | undefined) ?? `field-${name}-${auto}`;
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const [revealed, setRevealed] = useState(false);
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const effectiveType = type === 'password' && revealed ? 'text' : type;

  return (
    <div class={['field', error && 'has-error', cls].filter(Boolean).join(' ')}>
      <div class="field-label-row">
        <label class="field-label" for={inputId}>
          {label}
          {optional && <span class="field-optional"> (optional)</span>}
        </label>
        {labelAside}
      </div>
      <div class={['input-wrap', revealable && 'has-reveal'].filter(Boolean).join(' ')}>
        <input
          ref={ref}
          id={inputId}
          name={name}
          type={effectiveType}
          class="input"
          value={value}
          required={required}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy}
          data-field={name}
          onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
          {...rest}
        />
        {revealable && type === 'password' && (
          <button
            type="button"
            class="input-reveal"
            aria-label={revealed ? 'Hide password' : 'Show password'}
            aria-pressed={revealed}
            aria-controls={inputId}
            onClick={() => setRevealed((r) => !r)}
          >
            {revealed ? <IconEyeOff /> : <IconEye />}
          </button>
        )}
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
