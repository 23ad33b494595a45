import type { ComponentChildren } from 'preact';
import { IconAlert, IconCheck, IconInfo } from './icons';

export type AlertTone = 'danger' | 'warning' | 'success' | 'info';

/** An inline message box. Danger alerts use role="alert" so they are announced when they appear. */
export function Alert({
  tone = 'info',
  title,
  children,
  class: cls,
}: {
  tone?: AlertTone;
  title?: ComponentChildren;
  children?: ComponentChildren;
  class?: string;
}) {
  const Icon = tone === 'success' ? IconCheck : tone === 'info' ? IconInfo : IconAlert;
  return (
    <div class={['alert', `alert-${tone}`, cls].filter(Boolean).join(' ')} role={tone === 'danger' ? 'alert' : 'status'}>
      <span class="alert-icon">
        <Icon size={18} />
      </span>
      <div class="alert-body">
        {title && <p class="alert-title">{title}</p>}
        {children && <div class="alert-text">{children}</div>}
      </div>
    </div>
  );
}
