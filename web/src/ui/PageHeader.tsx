import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { hasNavigated } from '../router';

/**
 * The page title block. After an in-app navigation the heading takes focus, so screen reader and
 * keyboard users start at the new page rather than on the link they left.
 */
export function PageHeader({
  title,
  description,
  actions,
  eyebrow,
}: {
  title: string;
  description?: ComponentChildren;
  actions?: ComponentChildren;
  eyebrow?: ComponentChildren;
}) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (hasNavigated()) ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <header class="page-header">
      <div class="page-header-text">
        {eyebrow && <p class="page-eyebrow">{eyebrow}</p>}
        <h1 ref={ref} tabIndex={-1}>
          {title}
        </h1>
        {description && <p class="page-description">{description}</p>}
      </div>
      {actions && <div class="page-header-actions">{actions}</div>}
    </header>
  );
}
