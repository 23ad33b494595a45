import type { ComponentChildren, JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { Spinner } from './Spinner';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';
export type ButtonSize = 'sm' | 'md' | 'lg';

export type ButtonProps = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, 'size' | 'loading'> & {
  variant?: ButtonVariant;
  size?: ButtonSize;
  /** Shows a spinner, keeps the width, and blocks clicks (the button stays focusable). */
  loading?: boolean;
  block?: boolean;
  icon?: ComponentChildren;
  type?: 'button' | 'submit' | 'reset';
  disabled?: boolean;
  children?: ComponentChildren;
};

export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button(
  { variant = 'secondary', size = 'md', loading = false, block = false, icon, type = 'button', class: cls, className, disabled, onClick, children, ...rest },
  ref,
) {
  const classes = ['btn', `btn-${variant}`, `btn-${size}`, block && 'btn-block', loading && 'is-loading', cls, className]
    .filter(Boolean)
    .join(' ');
  const handleClick = (e: JSX.TargetedMouseEvent<HTMLButtonElement>) => {
    if (loading) {
      e.preventDefault();
      return;
    }
    if (onClick) (onClick as (ev: JSX.TargetedMouseEvent<HTMLButtonElement>) => void)(e);
  };
  return (
    <button
      ref={ref}
      type={type}
      class={classes}
      disabled={disabled}
      aria-busy={loading || undefined}
      aria-disabled={loading || undefined}
      onClick={handleClick}
      {...rest}
    >
      {loading && (
        <span class="btn-spinner" aria-hidden="true">
          <Spinner size={16} />
        </span>
      )}
      <span class="btn-content">
        {icon && (
          <span class="btn-icon" aria-hidden="true">
            {icon}
          </span>
        )}
        {children}
      </span>
    </button>
  );
});
