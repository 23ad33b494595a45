import type { ComponentChildren } from 'preact';
import { IconAlert, IconInfo } from './icons';

export type BannerTone = 'accent' | 'warning' | 'danger' | 'neutral';

/** A full-width strip under the top bar for a state that applies to the whole page (e.g. agency access). */
export function Banner({
  tone = 'accent',
  icon,
  children,
  actions,
  label,
}: {
  tone?: BannerTone;
  icon?: ComponentChildren;
  children: ComponentChildren;
  actions?: ComponentChildren;
  /** The region's accessible name. */
  label: string;
}) {
  const fallback = tone === 'warning' || tone === 'danger' ? <IconAlert size={16} /> : <IconInfo size={16} />;
  return (
    <section class={`banner banner-${tone}`} aria-label={label}>
      <div class="banner-inner">
        <span class="banner-icon" aria-hidden="true">
          {icon ?? fallback}
        </span>
        <div class="banner-text">{children}</div>
        {actions && <div class="banner-actions">{actions}</div>}
      </div>
    </section>
  );
}
