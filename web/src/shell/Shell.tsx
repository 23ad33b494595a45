import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Me } from '../api';
import { Link, navigate, useLocation } from '../router';
import { useSession } from '../session';
import { Banner, IconLayers, IconMenu, IconX, useToast } from '../ui';
import { findWorkspace, useCurrentWorkspaceId, useSections, useWorkspaces, workspaceName, workspacePath } from '../workspace';
import { LogoMark } from './Logo';
import { PaymentBanner } from './PaymentNotice';
import { accountNav, activeItem, groupNav, type NavItem } from './nav';
import { UserMenu } from './UserMenu';
import { WorkspaceSwitcher } from './WorkspaceSwitcher';

/**
 * The signed-in frame: top bar (product, workspace switcher, user menu), the Settings navigation on
 * the left (behind a menu button on a phone) and the page in <main>. The navigation is the current
 * workspace's sections (GET .../sections: exactly what the caller may see, titled by the API) plus
 * the account pages every user has (Profile, Security).
 */
export function Shell({ me, children }: { me: Me; children: ComponentChildren }) {
  const { path } = useLocation();
  const { workspaces } = useWorkspaces();
  const wsId = useCurrentWorkspaceId();
  const sections = useSections(wsId);
  const ws = findWorkspace(workspaces, wsId);
  const parent = ws?.parent_id ? findWorkspace(workspaces, ws.parent_id) : undefined;
  const nav = buildNav(wsId, ws ? workspaceName(ws) : '', sections.status === 'ready' ? sections.data.items : []);
  const navLoading = !!wsId && sections.status === 'loading';
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
      navigate('/sign-in', { replace: true, force: true });
    } catch {
      setSigningOut(false);
      toast({ tone: 'danger', title: "Couldn't sign out", description: 'Check your connection and try again.' });
    }
  };

  const current = activeItem(nav, path);
  // Billing states the same payment state in full at its top; elsewhere the strip says it once.
  const onBilling = !!wsId && path === workspacePath(wsId, 'billing');

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
          <Link href="/" class="brand">
            <LogoMark />
            <span class="brand-name">Atrium</span>
          </Link>
          <span class="topbar-divider" aria-hidden="true" />
          <WorkspaceSwitcher currentId={wsId} />
        </div>
        <UserMenu user={me.user} onSignOut={doSignOut} signingOut={signingOut} />
      </header>
      {sections.status === 'ready' && sections.data.agency && ws && (
        <Banner
          label="Agency access"
          icon={<IconLayers size={16} />}
          actions={
            parent && (
              <Link href={workspacePath(parent.id, 'subaccounts')} class="banner-link">
                Back to {workspaceName(parent)}
              </Link>
            )
          }
        >
          You are managing <strong>{workspaceName(ws)}</strong> as {ws.role === 'owner' ? 'an owner' : 'an admin'} of{' '}
          <strong>{parent ? workspaceName(parent) : 'its agency'}</strong>.
        </Banner>
      )}
      {sections.status === 'ready' && sections.data.billing_alert && wsId && !onBilling && (
        <PaymentBanner wsId={wsId} alert={sections.data.billing_alert} />
      )}
      <div class="shell-body">
        {navOpen && <div class="nav-scrim" onClick={() => setNavOpen(false)} aria-hidden="true" />}
        <nav
          ref={drawer}
          id="settings-nav"
          class={navOpen ? 'sidenav is-open' : 'sidenav'}
          aria-label="Settings"
        >
          <p class="sidenav-title">Settings</p>
          {navLoading && (
            <div class="sidenav-group sidenav-skeleton" aria-hidden="true">
              <span class="skeleton skeleton-label" />
              <span class="skeleton skeleton-link" />
              <span class="skeleton skeleton-link" />
              <span class="skeleton skeleton-link" />
            </div>
          )}
          {groupNav(nav).map((g) => (
            <div class="sidenav-group" key={g.label ?? g.items[0].id}>
              {g.label && (
                <p class="sidenav-group-label" title={g.label}>
                  {g.label}
                </p>
              )}
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

/** The navigation: the workspace's sections (except Profile, an account page), then the account pages. */
export function buildNav(wsId: string | null, wsName: string, sections: { id: string; title: string }[]): NavItem[] {
  const items: NavItem[] = [];
  if (wsId)
    for (const s of sections)
      if (s.id !== 'profile')
        items.push({ id: s.id, title: s.title, path: workspacePath(wsId, s.id), group: wsName || 'Workspace' });
  const profile = sections.find((s) => s.id === 'profile');
  return [
    ...items,
    ...accountNav.map((i) => (i.id === 'profile' && profile ? { ...i, title: profile.title } : i)),
  ];
}
