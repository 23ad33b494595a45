import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/** A titled surface. With a title it is a labelled region; `actions` sit at the right of the header. */
export function Card({
  title,
  description,
  actions,
  footer,
  children,
  flush,
  class: cls,
}: {
  title?: ComponentChildren;
  description?: ComponentChildren;
  actions?: ComponentChildren;
  footer?: ComponentChildren;
  children?: ComponentChildren;
  /** No body padding (for tables that run edge to edge). */
  flush?: boolean;
  class?: string;
}) {
  const id = useId();
  return (
    <section class={['card', cls].filter(Boolean).join(' ')} aria-labelledby={title ? `${id}-title` : undefined}>
      {(title || actions) && (
        <header class="card-header">
          <div class="card-heading">
            {title && (
              <h2 class="card-title" id={`${id}-title`}>
                {title}
              </h2>
            )}
            {description && <p class="card-description">{description}</p>}
          </div>
          {actions && <div class="card-actions">{actions}</div>}
        </header>
      )}
      <div class={flush ? 'card-body card-body-flush' : 'card-body'}>{children}</div>
      {footer && <footer class="card-footer">{footer}</footer>}
    </section>
  );
}
