import type { ComponentChildren, RefObject } from 'preact';
import { createPortal } from 'preact/compat';
import { useEffect, useId, useRef } from 'preact/hooks';
import { Button } from './Button';
import { IconX } from './icons';

const FOCUSABLE =
  'a[href], area[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null || el === document.activeElement);
}

/**
 * A modal dialog: focus moves in and is trapped (Tab/Shift+Tab cycle), the page behind is inert,
 * Esc or the backdrop closes it, and focus returns to where it was on close.
 */
export function Dialog({
  open,
  onClose,
  title,
  description,
  children,
  footer,
  initialFocus,
  role = 'dialog',
  dismissable = true,
  variant = 'center',
  size = 'md',
  closeLabel,
  headerStart,
}: {
  open: boolean;
  onClose: () => void;
  title: ComponentChildren;
  description?: ComponentChildren;
  children?: ComponentChildren;
  footer?: ComponentChildren;
  initialFocus?: RefObject<HTMLElement>;
  role?: 'dialog' | 'alertdialog';
  /** False while an action runs: Esc and the backdrop do nothing. */
  dismissable?: boolean;
  /** 'side': a sheet from the right edge (details, timelines); 'center': a modal in the middle. */
  variant?: 'center' | 'side';
  size?: 'md' | 'lg';
  /** Shows a close (×) button in the header with this accessible name. */
  closeLabel?: string;
  /** Something before the title in the header (e.g. an avatar). */
  headerStart?: ComponentChildren;
}) {
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();
  const latestClose = useRef(onClose);
  latestClose.current = onClose;
  const canDismiss = useRef(dismissable);
  canDismiss.current = dismissable;

  useEffect(() => {
    if (!open) return;
    const previous = document.activeElement as HTMLElement | null;
    const app = document.getElementById('app');
    app?.setAttribute('inert', '');
    document.body.classList.add('has-modal');
    const node = panel.current;
    const target = initialFocus?.current ?? (node ? focusables(node)[0] : null) ?? node;
    target?.focus();

    const onKey = (e: KeyboardEvent) => {
      if (!node) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        if (canDismiss.current) latestClose.current();
        return;
      }
      if (e.key !== 'Tab') return;
      const items = focusables(node);
      if (items.length === 0) {
        e.preventDefault();
        node.focus();
        return;
      }
      const first = items[0];
      const last = items[items.length - 1];
      const active = document.activeElement;
      if (e.shiftKey && (active === first || !node.contains(active))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (active === last || !node.contains(active))) {
        e.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      app?.removeAttribute('inert');
      document.body.classList.remove('has-modal');
      if (previous && document.contains(previous)) previous.focus();
    };
  }, [open]);

  if (!open) return null;
  return createPortal(
    <div class={variant === 'side' ? 'dialog-layer dialog-layer-side' : 'dialog-layer'}>
      <div class="dialog-backdrop" onClick={() => canDismiss.current && onClose()} />
      <div
        ref={panel}
        class={['dialog', variant === 'side' && 'dialog-side', size === 'lg' && 'dialog-lg'].filter(Boolean).join(' ')}
        role={role}
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={description ? `${id}-desc` : undefined}
        tabIndex={-1}
      >
        <div class="dialog-body">
          <div class={closeLabel || headerStart ? 'dialog-head has-extras' : 'dialog-head'}>
            {headerStart}
            <h2 class="dialog-title" id={`${id}-title`}>
              {title}
            </h2>
            {closeLabel && (
              <button
                type="button"
                class="icon-button icon-button-sm dialog-close"
                aria-label={closeLabel}
                onClick={() => canDismiss.current && onClose()}
              >
                <IconX size={18} />
              </button>
            )}
          </div>
          {description && (
            <div class="dialog-description" id={`${id}-desc`}>
              {description}
            </div>
          )}
          {children}
        </div>
        {footer && <div class="dialog-footer">{footer}</div>}
      </div>
    </div>,
    document.body,
  );
}

/** A yes/no question before a consequential action. */
export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel,
  cancelLabel = 'Cancel',
  tone = 'danger',
  busy = false,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: ComponentChildren;
  description?: ComponentChildren;
  confirmLabel: string;
  cancelLabel?: string;
  tone?: 'danger' | 'primary';
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={title}
      description={description}
      role="alertdialog"
      initialFocus={cancelRef}
      dismissable={!busy}
      footer={
        <>
          <Button ref={cancelRef} variant="secondary" onClick={onCancel} disabled={busy}>
            {cancelLabel}
          </Button>
          <Button variant={tone} onClick={onConfirm} loading={busy}>
            {confirmLabel}
          </Button>
        </>
      }
    />
  );
}
