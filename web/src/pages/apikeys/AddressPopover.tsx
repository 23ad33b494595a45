// The addresses a key was last used from, in a popover next to its "last used" time: a button that
// opens a small panel (portalled to <body> with fixed positioning, so the table never clips it). Esc,
// Tab, a click outside, scrolling or resizing close it; focus goes back to the button.
import { createPortal } from 'preact/compat';
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ApiKey } from '../../api-keys';
import { IconChevronDown, IconGlobe } from '../../ui';

export function AddressPopover({ apiKey }: { apiKey: ApiKey }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const id = useId();
  const ips = apiKey.last_used_ips;

  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (!open) return;
    const b = button.current;
    const p = panel.current;
    if (!b || !p) return;
    const r = b.getBoundingClientRect();
    const left = Math.max(8, Math.min(window.innerWidth - p.offsetWidth - 8, r.left));
    const below = r.bottom + 6;
    const top = below + p.offsetHeight > window.innerHeight - 8 && r.top - p.offsetHeight - 6 > 8 ? r.top - p.offsetHeight - 6 : below;
    p.style.left = `${left}px`;
    p.style.top = `${top}px`;
    p.focus();
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

  if (ips.length === 0) return null;
  return (
    <>
      <button
        ref={button}
        type="button"
        class="ip-button"
        aria-expanded={open}
        aria-controls={open ? `${id}-panel` : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <span class="visually-hidden">Addresses of {apiKey.name}: </span>
        <span class="ip-button-text mono">{ips[0]}</span>
        {ips.length > 1 && (
          <>
            {' '}
            <span class="ip-button-more">
              +{ips.length - 1}
              <span class="visually-hidden"> more</span>
            </span>
          </>
        )}
        <IconChevronDown size={12} />
      </button>
      {open &&
        createPortal(
          <div
            ref={panel}
            id={`${id}-panel`}
            class="popover"
            role="dialog"
            aria-label={`Recent addresses of ${apiKey.name}`}
            tabIndex={-1}
            onKeyDown={(e) => {
              if (e.key === 'Escape' || e.key === 'Tab') {
                e.preventDefault();
                e.stopPropagation();
                close();
              }
            }}
          >
            <p class="popover-title">Last used from</p>
            <ol class="ip-list">
              {ips.map((ip, i) => (
                <li key={ip}>
                  <IconGlobe size={14} />
                  <span class="mono">{ip}</span>
                  {i === 0 && <span class="ip-latest">latest</span>}
                </li>
              ))}
            </ol>
            <p class="popover-note">
              {apiKey.allowed_cidrs.length
                ? `Allowed only from ${apiKey.allowed_cidrs.join(', ')}.`
                : 'Allowed from any address. Add an allowlist by creating a new key.'}
            </p>
            <p class="popover-note">Atrium keeps the last 5 distinct addresses, newest first.</p>
          </div>,
          document.body,
        )}
    </>
  );
}
