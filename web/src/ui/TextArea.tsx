import type { ComponentChildren, JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { useId } from 'preact/hooks';
import { IconAlert } from './icons';

export type TextAreaProps = Omit<JSX.TextareaHTMLAttributes<HTMLTextAreaElement>, 'label' | 'value' | 'onInput'> & {
  label: ComponentChildren;
  name: string;
  value: string;
  onValue: (value: string) => void;
  hint?: ComponentChildren;
  error?: string;
  optional?: boolean;
  required?: boolean;
  rows?: number;
  maxLength?: number;
  /** Shows "12 / 200" under the field when maxLength is set. */
  counter?: boolean;
};

export const TextArea = forwardRef<HTMLTextAreaElement, TextAreaProps>(function TextArea(
  { label, name, value, onValue, hint, error, optional, id, rows = 3, maxLength, counter, class: cls, ...rest },
  ref,
) {
  const auto = useId();
  const areaId = (id as string | undefined) ?? `field-${name}-${auto}`;
  const hintId = `${areaId}-hint`;
  const errorId = `${areaId}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const count = [...value].length;
  return (
    <div class={['field', error && 'has-error', cls].filter(Boolean).join(' ')}>
      <div class="field-label-row">
        <label class="field-label" for={areaId}>
          {label}
          {optional && <span class="field-optional"> (optional)</span>}
        </label>
        {counter && maxLength && (
          <span class={count > maxLength ? 'field-counter is-over' : 'field-counter'} aria-hidden="true">
            {count} / {maxLength}
          </span>
        )}
      </div>
      <textarea
        ref={ref}
        id={areaId}
        name={name}
        rows={rows}
        class="input textarea"
        value={value}
        maxLength={maxLength}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy}
        data-field={name}
        onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)}
        {...rest}
      />
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
