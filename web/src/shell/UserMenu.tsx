import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { User } from '../api';
import { initials } from '../lib/format';
import { IconChevronDown, IconLogOut, IconShield } from '../ui';
import { Link } from '../router';

/** The email with a line-break opportunity after the "@", so long addresses wrap at a sensible place. */
function breakableEmail(email: string) {
  const at = email.lastIndexOf('@');
  if (at <= 0) return email;
  return (
    <>
      {email.slice(0, at + 1)}
      <wbr />
      {email.slice(at + 1)}
    </>
  );
}

/**
 * The account menu in the top bar: a disclosure button that opens a panel with the user's name and
 * email, a link to Security, and "Sign out". Esc or a click outside closes it and returns focus.
 */
export function UserMenu({ user, onSignOut, signingOut }: { user: User; onSignOut: () => void; signingOut: boolean }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      }
    };
    const onFocus = (e: FocusEvent) => {
      if (root.current && e.target instanceof Node && !root.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocus);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocus);
    };
  }, [open]);

  return (
    <div class="user-menu" ref={root}>
      <button
        ref={button}
        type="button"
        class="user-menu-button"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        onClick={() => setOpen((o) => !o)}
      >
        <span class="avatar" aria-hidden="true">
          {initials(user.name, user.email)}
        </span>
        <span class="user-menu-name">{user.name || user.email}</span>
        <span class="visually-hidden">, account menu</span>
        <IconChevronDown size={16} />
      </button>
      <div id={`${id}-panel`} class="user-menu-panel" hidden={!open}>
        <div class="user-menu-who">
          <span class="avatar avatar-lg" aria-hidden="true">
            {initials(user.name, user.email)}
          </span>
          <div class="user-menu-who-text">
            <p class="user-menu-who-name">{user.name}</p>
            <p class="user-menu-who-email">{breakableEmail(user.email)}</p>
          </div>
        </div>
        <div class="user-menu-items">
          <Link href="/settings/security" class="user-menu-item" onClick={() => setOpen(false)}>
            <IconShield size={16} />
            Security
          </Link>
          <button type="button" class="user-menu-item" onClick={onSignOut} disabled={signingOut}>
            <IconLogOut size={16} />
            {signingOut ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </div>
    </div>
  );
}
