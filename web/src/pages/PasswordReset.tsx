// Forgot password (/forgot-password): ask for a link by email; the answer is the same whether or not
// an account uses the address. Reset (/reset-password/{token}, from that email): choose a new
// password; every session ends, and sign-in says so.
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { publicApi } from '../api-team';
import { formatWait, tooShort } from '../lib/format';
import { Link, navigate, useLocation } from '../router';
import { useAuthOptions, useSession } from '../session';
import { AuthLayout } from '../shell/AuthLayout';
import { Alert, Button, IconClock, IconMail, looksLikeEmail, TextField, useForm } from '../ui';
import { useTitle } from './title';
import './public.css';

function RateAlert({ error }: { error: ApiError }) {
  if (error.status === 429)
    return (
      <Alert tone="danger" title="Too many requests from your network">
        For your security this is paused. Try again in {formatWait(error.retryAfter ?? 60)}.
      </Alert>
    );
  return (
    <Alert tone="danger" title={error.title}>
      {error.detail ?? (error.status === 0 ? 'Check your connection and try again.' : 'Please try again in a moment.')}
    </Alert>
  );
}

export function ForgotPassword() {
  const { search } = useLocation();
  const [sent, setSent] = useState<{ email: string; message: string } | null>(null);
  useTitle(sent ? 'Check your email' : 'Reset your password');

  const form = useForm({
    initial: { email: search.get('email') ?? '' },
    validate: (v) => ({
      email: !v.email.trim()
        ? 'Enter the email address you sign in with.'
        : !looksLikeEmail(v.email)
          ? 'Enter an email address like name@company.com.'
          : undefined,
    }),
    onSubmit: async (v) => {
      const r = await publicApi.forgot(v.email.trim());
      setSent({ email: v.email.trim(), message: r.message });
    },
  });

  if (sent)
    return (
      <AuthLayout
        title="Check your email"
        icon={<IconMail size={22} />}
        variant="ended"
        subtitle={
          <>
            If an account uses <strong>{sent.email}</strong>, a link to reset its password is on its way. The link works for one hour,
            once.
          </>
        }
        footer={
          <p>
            Didn't get it? Check your spam folder, or{' '}
            <button
              type="button"
              class="link-button"
              onClick={() => {
                setSent(null);
                form.reset({ email: sent.email });
              }}
            >
              try another address
            </button>
            .
          </p>
        }
      >
        <p class="visually-hidden" role="status">
          {sent.message}
        </p>
        <Link href="/sign-in" class="btn btn-secondary btn-lg btn-block">
          Back to sign in
        </Link>
      </AuthLayout>
    );

  return (
    <AuthLayout
      title="Reset your password"
      subtitle="Enter the email you sign in with, and we'll send you a link to choose a new password."
      footer={
        <p>
          Remembered it? <Link href="/sign-in">Sign in</Link>
        </p>
      }
    >
      <form class="auth-form" onSubmit={form.onSubmit} noValidate aria-label="Reset your password">
        {form.formError && <RateAlert error={form.formError} />}
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
        <Button type="submit" variant="primary" size="lg" block loading={form.submitting}>
          Send reset link
        </Button>
      </form>
    </AuthLayout>
  );
}

export function ResetPassword({ token }: { token: string }) {
  const { options } = useAuthOptions();
  const { reload } = useSession();
  const [dead, setDead] = useState(false);
  const min = options?.password_min_length ?? 12;
  useTitle(dead ? 'This reset link has expired' : 'Choose a new password');

  const form = useForm({
    initial: { password: '' },
    validate: (v) => ({
      password: !v.password ? 'Choose a new password.' : [...v.password].length < min ? tooShort(v.password, min) : undefined,
    }),
    messages: {
      password: {
        common_password: 'This password is too common. Choose one that would be hard to guess.',
        length: `Use at least ${min} characters.`,
      },
    },
    onSubmit: async (v) => {
      try {
        await publicApi.reset(token, v.password);
      } catch (e) {
        if (e instanceof ApiError && e.fieldError('token')) {
          setDead(true);
          return;
        }
        throw e;
      }
      // Every session ended with the change, this tab's included: forget it and sign in afresh.
      reload();
      navigate('/sign-in?reset=1', { replace: true });
    },
  });

  if (dead)
    return (
      <AuthLayout
        title="This reset link has expired"
        icon={<IconClock size={22} />}
        variant="ended"
        subtitle="Reset links work for one hour and only once, and a newer link replaces older ones. Ask for a new link and use the latest email."
      >
        <Link href="/forgot-password" class="btn btn-primary btn-lg btn-block">
          Send a new link
        </Link>
        <Link href="/sign-in" class="btn btn-ghost btn-lg btn-block auth-secondary">
          Back to sign in
        </Link>
      </AuthLayout>
    );

  return (
    <AuthLayout
      title="Choose a new password"
      subtitle="Pick one you don't use anywhere else. You'll be signed out on every device, then sign in with the new password."
      footer={
        <p>
          Remembered it? <Link href="/sign-in">Sign in</Link>
        </p>
      }
    >
      <form class="auth-form" onSubmit={form.onSubmit} noValidate aria-label="Choose a new password">
        {form.formError && <RateAlert error={form.formError} />}
        {form.otherErrors.length > 0 && (
          <Alert tone="danger" title="Check your details">
            {form.otherErrors.join(' ')}
          </Alert>
        )}
        <TextField
          {...form.field('password')}
          label="New password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${min} characters. A few unrelated words make a strong, memorable password.`}
          required
          revealable
          autoFocus
        />
        <Button type="submit" variant="primary" size="lg" block loading={form.submitting}>
          Change password
        </Button>
      </form>
    </AuthLayout>
  );
}
