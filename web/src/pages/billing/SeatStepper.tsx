// A seat count: a number field between − and + buttons, with its label, hint and error.
import { forwardRef } from 'preact/compat';
import { useId } from 'preact/hooks';
import { IconAlert } from '../../ui';

export const SeatStepper = forwardRef<
  HTMLInputElement,
  { value: string; onValue: (v: string) => void; min: number; max: number; error?: string; hint?: string; label?: string; disabled?: boolean }
>(function SeatStepper({ value, onValue, min, max, error, hint, label = 'Seats', disabled }, ref) {
  const id = useId();
  const n = /^\d+$/.test(value.trim()) ? parseInt(value, 10) : NaN;
  const step = (d: number) => {
    const base = Number.isNaN(n) ? min : n;
    onValue(String(Math.min(max, Math.max(min, base + d))));
  };
  const describedBy = [error ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class={error ? 'field bill-stepper-field has-error' : 'field bill-stepper-field'}>
      <div class="field-label-row">
        <label class="field-label" for={`${id}-input`}>
          {label}
        </label>
      </div>
      <div class="bill-stepper">
        <button
          type="button"
          class="bill-stepper-btn"
          aria-label="One seat fewer"
          disabled={disabled || (!Number.isNaN(n) && n <= min)}
          onClick={() => step(-1)}
        >
          −
        </button>
        <input
          ref={ref}
          id={`${id}-input`}
          name="quantity"
          class="input bill-stepper-input"
          type="number"
          inputMode="numeric"
          min={min}
          max={max}
          step={1}
          value={value}
          disabled={disabled}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy}
          data-field="quantity"
          onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        />
        <button
          type="button"
          class="bill-stepper-btn"
          aria-label="One seat more"
          disabled={disabled || (!Number.isNaN(n) && n >= max)}
          onClick={() => step(1)}
        >
          +
        </button>
      </div>
      {error && (
        <p class="field-error" id={`${id}-error`}>
          <IconAlert size={14} />
          <span>{error}</span>
        </p>
      )}
      {hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
});
