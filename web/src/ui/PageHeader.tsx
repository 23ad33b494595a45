import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { hasNavigated, useLocation } from '../router';

/** The Settings sections with a user guide (docs/guide/<section>.md, served at /guide/<section>). */
const GUIDES: Record<string, string> = {
  workspace: 'Workspace Settings',
  profile: 'Profile',
  notifications: 'Notifications',
  team: 'Team',
  billing: 'Billing',
  subaccounts: 'Sub-Accounts',
  api_keys: 'API Keys',
  activity: 'Activity',
  billing_recovery: 'Billing Recovery',
};

/** The guide of the section a Settings path shows (/settings/{section}/…, inside a workspace or not). */
export function guideOf(path: string): string | null {
  const m = /\/settings\/([a-z_]+)/.exec(path);
  return m && m[1] in GUIDES ? m[1] : null;
}

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
  const guide = guideOf(useLocation().path);
  // In a new tab, so an open form keeps its unsaved changes.
  const guideLink = guide && (
    <a class="page-guide" href={`/guide/${guide}`} target="_blank" rel="noopener">
      Read the {GUIDES[guide]} guide
    </a>
  );
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
        {(description || guideLink) && (
          <p class="page-description">
            {description}
            {description && guideLink ? ' ' : null}
            {guideLink}
          </p>
        )}
      </div>
      {actions && <div class="page-header-actions">{actions}</div>}
    </header>
  );
}
