import type { ComponentChildren } from 'preact';
import { Home, WorkspaceHome, WorkspaceSection } from './pages/WorkspaceRoutes';
import { AcceptInvitation } from './pages/AcceptInvitation';
import { EmailChangeLink } from './pages/EmailChange';
import { NotFound } from './pages/NotFound';
import { ForgotPassword, ResetPassword } from './pages/PasswordReset';
import { Profile } from './pages/Profile';
import { Security } from './pages/Security';
import { SignIn } from './pages/SignIn';
import { SignUp } from './pages/SignUp';
import { Redirect, useLocation } from './router';
import { SessionProvider, useSession } from './session';
import { AuthLayout, PageLoading } from './shell/AuthLayout';
import { Shell } from './shell/Shell';
import { LeaveGuard } from './shell/LeaveGuard';
import { ErrorState, ToastProvider } from './ui';
import { parseWorkspacePath, WorkspaceProvider } from './workspace';

interface Route {
  path: string;
  /** Public pages render without a session; the rest need one. */
  public?: boolean;
  render: () => ComponentChildren;
}

const routes: Route[] = [
  { path: '/sign-in', public: true, render: () => <SignIn /> },
  { path: '/sign-up', public: true, render: () => <SignUp /> },
  { path: '/forgot-password', public: true, render: () => <ForgotPassword /> },
  { path: '/', render: () => <Home /> },
  { path: '/settings', render: () => <Home /> },
  { path: '/settings/profile', render: () => <Profile /> },
  { path: '/settings/security', render: () => <Security /> },
];

/** The route for a path: a fixed one, or a workspace page (/w/{id}[/settings[/{section}]]). */
function resolve(path: string): Route | undefined {
  const fixed = routes.find((r) => r.path === path);
  if (fixed) return fixed;
  // Pages people reach from mail: /invitations/{token}, /reset-password/{token}, and the email-change
  // links /confirm-email/{token} (to the new address) and /undo-email-change/{token} (to the old one).
  const mail = /^\/(invitations|reset-password|confirm-email|undo-email-change)\/([^/]+)$/.exec(path);
  if (mail) {
    let token = mail[2];
    try {
      token = decodeURIComponent(token);
    } catch {
      /* a mangled link: the page will say it isn't valid */
    }
    if (mail[1] === 'confirm-email' || mail[1] === 'undo-email-change') {
      const kind = mail[1] === 'confirm-email' ? 'confirm' : 'undo';
      return { path, public: true, render: () => <EmailChangeLink key={token} token={token} kind={kind} /> };
    }
    return mail[1] === 'invitations'
      ? { path, public: true, render: () => <AcceptInvitation key={token} token={token} /> }
      : { path, public: true, render: () => <ResetPassword key={token} token={token} /> };
  }
  const { wsId, section, subpath } = parseWorkspacePath(path);
  if (!wsId) return undefined;
  if (!section) return { path, render: () => <WorkspaceHome wsId={wsId} /> };
  if (section === 'profile') return { path, render: () => <Redirect to="/settings/profile" /> };
  return {
    path,
    render: () => <WorkspaceSection key={`${wsId}/${section}/${subpath ?? ''}`} wsId={wsId} section={section} subpath={subpath} />,
  };
}

function Router() {
  const { path, search } = useLocation();
  const { state, reload } = useSession();
  const route = resolve(path);

  if (route?.public) return <>{route.render()}</>;

  if (state.status === 'loading') return <PageLoading />;
  if (state.status === 'error')
    return (
      <AuthLayout title="Atrium is unavailable">
        <ErrorState error={state.error} onRetry={reload} />
      </AuthLayout>
    );
  if (state.status === 'signed-out') {
    if (!route) return <NotFound signedIn={false} />;
    const here = path + (search.toString() ? `?${search}` : '');
    const target =
      path === '/' || path === '/settings' || state.reason === 'signed-out'
        ? '/sign-in'
        : `/sign-in?next=${encodeURIComponent(here)}`;
    return <Redirect to={target} />;
  }
  return (
    <WorkspaceProvider>
      <Shell me={state.me}>{route ? route.render() : <NotFound signedIn />}</Shell>
    </WorkspaceProvider>
  );
}

export function App() {
  return (
    <ToastProvider>
      <SessionProvider>
        <Router />
        <LeaveGuard />
      </SessionProvider>
    </ToastProvider>
  );
}
