import type { ComponentChildren } from 'preact';

export function EmptyState({
  icon,
  title,
  children,
  action,
}: {
  icon?: ComponentChildren;
  title: ComponentChildren;
  children?: ComponentChildren;
  action?: ComponentChildren;
}) {
  return (
    <div class="empty-state">
      {icon && (
        <div class="empty-state-icon" aria-hidden="true">
          {icon}
        </div>
      )}
      <p class="empty-state-title">{title}</p>
      {children && <div class="empty-state-text">{children}</div>}
      {action && <div class="empty-state-action">{action}</div>}
    </div>
  );
}
