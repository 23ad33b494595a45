import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me } from '../api';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';
import { IconMenu, IconX, useToast } from '../ui';
import { LogoMark } from './Logo';
import { accountNav, activeItem, groupNav, type NavItem } from './nav';
import { UserMenu } from './UserMenu';

/**
 * The signed-in frame: top bar (product, user menu), the Settings navigation on the left (behind a
 * menu button on a phone) and the page in <main>.
 */
export function Shell({ me, nav = accountNav, children }: { me: Me; nav?: NavItem[]; children: ComponentChildren }) {
  const { path } = useLocation();
  const { signOut } = useSession();
  const toast = useToast();
  const [navOpen, setNavOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const drawer = useRef<HTMLElement>(null);

  useEffect(() => setNavOpen(false), [path]);

  useEffect(() => {
    if (!navOpen) return;
    const first = drawer.current?.querySelector<HTMLElement>('a, button');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setNavOpen(false);
        menuButton.current?.focus();
      }
    };
    // Tabbing out of the drawer (anywhere but its own toggle) closes it.
    const onFocus = (e: FocusEvent) => {
      const t = e.target as Node | null;
      if (t && !drawer.current?.contains(t) && !menuButton.current?.contains(t)) setNavOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocus);
    document.body.classList.add('has-drawer');
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocus);
      document.body.classList.remove('has-drawer');
    };
  }, [navOpen]);

  const doSignOut = async () => {
    setSigningOut(true);
    try {
      await signOut();
      navigate('/sign-in', { replace: true });
    } catch {
      setSigningOut(false);
      toast({ tone: 'danger', title: "Couldn't sign out", description: 'Check your connection and try again.' });
    }
  };

  const current = activeItem(nav, path);

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-start">
          <button
            ref={menuButton}
            type="button"
            class="icon-button nav-toggle"
            aria-expanded={navOpen}
            aria-controls="settings-nav"
            onClick={() => setNavOpen((o) => !o)}
          >
            {navOpen ? <IconX size={20} /> : <IconMenu size={20} />}
            <span class="visually-hidden">{navOpen ? 'Close navigation' : 'Open navigation'}</span>
          </button>
          <Link href="/settings" class="brand">
            <LogoMark />
            <span class="brand-name">Atrium</span>
          </Link>
        </div>
        <UserMenu user={me.user} onSignOut={doSignOut} signingOut={signingOut} />
      </header>
      <div class="shell-body">
        {navOpen && <div class="nav-scrim" onClick={() => setNavOpen(false)} aria-hidden="true" />}
        <nav
          ref={drawer}
          id="settings-nav"
          class={navOpen ? 'sidenav is-open' : 'sidenav'}
          aria-label="Settings"
        >
          <p class="sidenav-title">Settings</p>
          {groupNav(nav).map((g) => (
            <div class="sidenav-group" key={g.label ?? g.items[0].id}>
              {g.label && <p class="sidenav-group-label">{g.label}</p>}
              <ul role="list">
                {g.items.map((item) => (
                  <li key={item.id}>
                    <Link
                      href={item.path}
                      class={current?.id === item.id ? 'sidenav-link is-active' : 'sidenav-link'}
                      aria-current={current?.id === item.id ? 'page' : undefined}
                      data-section={item.id}
                    >
                      {item.title}
                    </Link>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </nav>
        <main id="main" class="main" tabIndex={-1}>
          <div class="main-inner">{children}</div>
        </main>
      </div>
    </div>
  );
}
