import { Fragment, type ComponentChildren } from 'preact';
import { createPortal } from 'preact/compat';
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface MenuItem {
  id: string;
  label: string;
  icon?: ComponentChildren;
  tone?: 'danger';
  onSelect: () => void;
  /** Starts a new section (a separator above). */
  separated?: boolean;
}

/**
 * An actions menu: a button that opens a list of commands (role="menu"). Arrow keys, Home/End and
 * the first letter move between items; Enter runs one; Esc, Tab or a click outside close it and
 * focus returns to the button. The list is portalled to <body> with fixed positioning, so a
 * scrolling table never clips it.
 */
export function Menu({
  label,
  items,
  trigger,
  triggerClass = 'icon-button icon-button-sm',
}: {
  /** The button's accessible name, e.g. "Actions for Acme Dental". */
  label: string;
  items: MenuItem[];
  /** The button's visible content (an icon by default). */
  trigger: ComponentChildren;
  triggerClass?: string;
}) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();
  const focusFirst = useRef<'first' | 'last'>('first');

  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  const place = () => {
    const b = button.current;
    const p = panel.current;
    if (!b || !p) return;
    const r = b.getBoundingClientRect();
    const w = p.offsetWidth;
    const h = p.offsetHeight;
    const left = Math.max(8, Math.min(window.innerWidth - w - 8, r.right - w));
    const below = r.bottom + 4;
    const top = below + h > window.innerHeight - 8 && r.top - h - 4 > 8 ? r.top - h - 4 : below;
    p.style.left = `${left}px`;
    p.style.top = `${top}px`;
  };

  useLayoutEffect(() => {
    if (!open) return;
    place();
    const list = menuItems(panel.current);
    (focusFirst.current === 'last' ? list[list.length - 1] : list[0])?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!panel.current?.contains(t) && !button.current?.contains(t)) close(false);
    };
    const onScroll = (e: Event) => {
      if (panel.current && e.target instanceof Node && panel.current.contains(e.target)) return;
      close(false);
    };
    const onResize = () => close(false);
    document.addEventListener('mousedown', onDown);
    window.addEventListener('scroll', onScroll, true);
    window.addEventListener('resize', onResize);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('scroll', onScroll, true);
      window.removeEventListener('resize', onResize);
    };
  }, [open]);

  const onPanelKey = (e: KeyboardEvent) => {
    const list = menuItems(panel.current);
    const i = list.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      list[(n + list.length) % list.length]?.focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(list.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      e.preventDefault();
      close();
    } else if (e.key.length === 1 && /\S/.test(e.key)) {
      const k = e.key.toLowerCase();
      const order = [...list.slice(i + 1), ...list.slice(0, i + 1)];
      const hit = order.find((el) => el.textContent?.trim().toLowerCase().startsWith(k));
      if (hit) {
        e.preventDefault();
        hit.focus();
      }
    }
  };

  return (
    <>
      <button
        ref={button}
        type="button"
        class={triggerClass}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? `${id}-menu` : undefined}
        aria-label={label}
        onClick={() => {
          focusFirst.current = 'first';
          setOpen((o) => !o);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            focusFirst.current = e.key === 'ArrowUp' ? 'last' : 'first';
            setOpen(true);
          }
        }}
      >
        {trigger}
      </button>
      {open &&
        createPortal(
          <div ref={panel} id={`${id}-menu`} class="menu" role="menu" aria-label={label} onKeyDown={onPanelKey}>
            {items.map((item) => (
              <Fragment key={item.id}>
                {item.separated && <div class="menu-separator" role="separator" />}
                <button
                  type="button"
                  role="menuitem"
                  tabIndex={-1}
                  class={item.tone === 'danger' ? 'menu-item is-danger' : 'menu-item'}
                  data-action={item.id}
                  onClick={() => {
                    close();
                    item.onSelect();
                  }}
                >
                  {item.icon && (
                    <span class="menu-item-icon" aria-hidden="true">
                      {item.icon}
                    </span>
                  )}
                  {item.label}
                </button>
              </Fragment>
            ))}
          </div>,
          document.body,
        )}
    </>
  );
}

function menuItems(root: HTMLElement | null): HTMLElement[] {
  return root ? Array.from(root.querySelectorAll<HTMLElement>('[role="menuitem"]')) : [];
}
