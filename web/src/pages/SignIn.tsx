import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { formatWait } from '../lib/format';
import { Link, navigate, Redirect, safeNext, useLocation } from '../router';
import { useAuthOptions, useSession } from '../session';
import { AuthLayout } from '../shell/AuthLayout';
import { Alert, Button, looksLikeEmail, TextField, useForm } from '../ui';
import { useTitle } from './title';

/** What a failed sign-in says. One generic message for wrong email and wrong password (DESIGN §5). */
function SignInError({ error }: { error: ApiError }) {
  if (error.status === 401)
    return (
      <Alert tone="danger" title="Incorrect email or password">
        Check both and try again. Passwords are case-sensitive.
      </Alert>
    );
  if (error.status === 429)
    return (
      <Alert tone="danger" title="Too many sign-in attempts">
        For your security, sign-in is paused.{' '}
        {error.retryAfter !== undefined
          ? `Try again in ${formatWait(error.retryAfter)}.`
          : 'Try again in a few minutes.'}
      </Alert>
    );
  return (
    <Alert tone="danger" title={error.title}>
      {error.detail ?? (error.status === 0 ? 'Check your connection and try again.' : 'Please try again in a moment.')}
    </Alert>
  );
}

export function SignIn() {
  useTitle('Sign in');
  const { state, signedIn } = useSession();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const { options } = useAuthOptions();
  const [lockedUntil, setLockedUntil] = useState(0);
  const [, setTick] = useState(0);

  const invitation = next.startsWith('/invitations/');
  const form = useForm({
    initial: { email: search.get('email') ?? '', password: '' },
    validate: (v) => ({
      email: !v.email.trim()
        ? 'Enter your email address.'
        : !looksLikeEmail(v.email)
          ? 'Enter an email address like name@company.com.'
          : undefined,
      password: v.password ? undefined : 'Enter your password.',
    }),
    onSubmit: async (v) => {
      try {
        const me = await api.signIn(v.email.trim(), v.password);
        signedIn(me);
        navigate(next, { replace: true });
      } catch (err) {
        if (err instanceof ApiError && err.status === 429)
          setLockedUntil(Date.now() + (err.retryAfter ?? 60) * 1000);
        throw err;
      }
    },
  });

  // Re-enable the button once the Retry-After wait is over.
  useEffect(() => {
    if (!lockedUntil) return;
    const wait = lockedUntil - Date.now();
    if (wait <= 0) return;
    const t = window.setTimeout(() => setTick((n) => n + 1), wait + 50);
    return () => window.clearTimeout(t);
  }, [lockedUntil]);
  const locked = lockedUntil > Date.now();

  if (state.status === 'signed-in' && !form.submitting) return <Redirect to={next} />;

  const notice =
    !form.formError && search.get('reset') === '1' ? (
      <Alert tone="success" title="Your password was changed">
        You were signed out everywhere. Sign in with your new password.
      </Alert>
    ) : !form.formError && state.status === 'signed-out' && state.reason === 'expired' ? (
      <Alert tone="info">Your session has ended. Sign in again to continue.</Alert>
    ) : !form.formError && state.status === 'signed-out' && state.reason === 'signed-out' ? (
      <Alert tone="success">You've been signed out.</Alert>
    ) : null;

  return (
    <AuthLayout
      title="Sign in to Atrium"
      subtitle={
        invitation
          ? 'Sign in to accept your invitation. You will come back to it right after.'
          : 'Welcome back. Enter your details to manage your workspace settings.'
      }
      footer={
        invitation ? (
          <p>
            No account yet? <Link href={next}>Back to the invitation</Link> to create one.
          </p>
        ) : options?.signup_enabled ? (
          <p>
            New to Atrium? <Link href="/sign-up">Create an account</Link>
          </p>
        ) : null
      }
    >
      <form class="auth-form" onSubmit={form.onSubmit} noValidate aria-label="Sign in">
        {form.formError && <SignInError error={form.formError} />}
        {notice}
        <TextField
          {...form.field('email')}
          label="Email"
          type="email"
          autoComplete="username"
          inputMode="email"
          autoCapitalize="none"
          spellcheck={false}
          required
          autoFocus
        />
        <TextField
          {...form.field('password')}
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          revealable
          labelAside={
            <Link
              href={`/forgot-password${form.values.email.trim() ? `?email=${encodeURIComponent(form.values.email.trim())}` : ''}`}
              class="field-aside-link"
            >
              Forgot password?
            </Link>
          }
        />
        <Button type="submit" variant="primary" size="lg" block loading={form.submitting} disabled={locked}>
          Sign in
        </Button>
      </form>
    </AuthLayout>
  );
}
