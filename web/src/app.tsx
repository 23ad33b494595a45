import type { ComponentChildren } from 'preact';
import { NotFound } from './pages/NotFound';
import { Security } from './pages/Security';
import { SignIn } from './pages/SignIn';
import { SignUp } from './pages/SignUp';
import { Redirect, useLocation } from './router';
import { SessionProvider, useSession } from './session';
import { AuthLayout, PageLoading } from './shell/AuthLayout';
import { accountNav } from './shell/nav';
import { Shell } from './shell/Shell';
import { ErrorState, ToastProvider } from './ui';

interface Route {
  path: string;
  /** Public pages render without a session; the rest need one. */
  public?: boolean;
  render: () => ComponentChildren;
}

const routes: Route[] = [
  { path: '/sign-in', public: true, render: () => <SignIn /> },
  { path: '/sign-up', public: true, render: () => <SignUp /> },
  { path: '/', render: () => <Redirect to="/settings" /> },
  { path: '/settings', render: () => <Redirect to={accountNav[0].path} /> },
  { path: '/settings/security', render: () => <Security /> },
];

function Router() {
  const { path, search } = useLocation();
  const { state, reload } = useSession();
  const route = routes.find((r) => r.path === path);

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
  return <Shell me={state.me}>{route ? route.render() : <NotFound signedIn />}</Shell>;
}

export function App() {
  return (
    <ToastProvider>
      <SessionProvider>
        <Router />
      </SessionProvider>
    </ToastProvider>
  );
}
