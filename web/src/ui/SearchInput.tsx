import type { JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { useId } from 'preact/hooks';
import { IconSearch, IconX } from './icons';

export type SearchInputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'value' | 'onInput' | 'label'> & {
  /** The accessible name (visually hidden; the placeholder shows what to type). */
  label: string;
  value: string;
  onValue: (value: string) => void;
  placeholder?: string;
};

/** A search box: magnifier, a clear button once there is text, Esc clears. */
export const SearchInput = forwardRef<HTMLInputElement, SearchInputProps>(function SearchInput(
  { label, value, onValue, placeholder, id, class: cls, onKeyDown, ...rest },
  ref,
) {
  const auto = useId();
  const inputId = (id as string | undefined) ?? `search-${auto}`;
  return (
    <div class={['search', cls].filter(Boolean).join(' ')}>
      <label class="visually-hidden" for={inputId}>
        {label}
      </label>
      <span class="search-icon" aria-hidden="true">
        <IconSearch size={16} />
      </span>
      <input
        ref={ref}
        id={inputId}
        type="search"
        class="input search-input"
        value={value}
        placeholder={placeholder}
        autoComplete="off"
        spellcheck={false}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && value) {
            e.preventDefault();
            e.stopPropagation();
            onValue('');
          }
          if (onKeyDown) (onKeyDown as (ev: JSX.TargetedKeyboardEvent<HTMLInputElement>) => void)(e);
        }}
        {...rest}
      />
      {value && (
        <button type="button" class="search-clear" aria-label="Clear search" onClick={() => onValue('')}>
          <IconX size={14} />
        </button>
      )}
    </div>
  );
});
