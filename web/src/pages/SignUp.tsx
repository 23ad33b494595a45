import { api, ApiError } from '../api';
import { tooShort } from '../lib/format';
import { Link, navigate, Redirect } from '../router';
import { useAuthOptions, useSession } from '../session';
import { AuthLayout } from '../shell/AuthLayout';
import { Alert, Button, ErrorState, looksLikeEmail, Spinner, TextField, useForm, useToast } from '../ui';
import { useTitle } from './title';

export function SignUp() {
  useTitle('Create your account');
  const { state, signedIn } = useSession();
  const { options, error: optionsError, retry } = useAuthOptions();
  const toast = useToast();
  const min = options?.password_min_length ?? 12;

  const form = useForm({
    initial: { name: '', email: '', password: '' },
    validate: (v) => ({
      name: v.name.trim() ? undefined : 'Enter your name.',
      email: !v.email.trim()
        ? 'Enter your email address.'
        : !looksLikeEmail(v.email)
          ? 'Enter an email address like name@company.com.'
          : undefined,
      password: !v.password
        ? 'Choose a password.'
        : [...v.password].length < min
          ? tooShort(v.password, min)
          : undefined,
    }),
    messages: {
      email: { taken: 'An account with this email already exists. Sign in instead.' },
      password: {
        common_password: 'This password is too common. Choose one that would be hard to guess.',
        length: `Use at least ${min} characters.`,
      },
    },
    onSubmit: async (v) => {
      const me = await api.signUp(v.name.trim(), v.email.trim(), v.password);
      signedIn(me);
      navigate('/settings', { replace: true });
      toast({ title: `Welcome to Atrium, ${me.user.name.split(' ')[0] || me.user.name}`, description: 'Your workspace is ready. Start with the setup checklist.' });
    },
  });

  if (state.status === 'signed-in' && !form.submitting) return <Redirect to="/settings" />;

  if (!options) {
    return (
      <AuthLayout title="Create your account">
        {optionsError ? <ErrorState error={optionsError} onRetry={retry} /> : <div class="auth-loading"><Spinner label="Loading" /></div>}
      </AuthLayout>
    );
  }

  if (!options.signup_enabled) {
    return (
      <AuthLayout
        title="Sign-up is not available"
        subtitle="New accounts on this Atrium are created by invitation. Ask a workspace admin to invite you."
      >
        <Link href="/sign-in" class="btn btn-secondary btn-lg btn-block">
          Go to sign in
        </Link>
      </AuthLayout>
    );
  }

  const formError: ApiError | null = form.formError;
  return (
    <AuthLayout
      title="Create your account"
      subtitle="Set up Atrium to manage your workspace, team and billing in one place."
      footer={
        <p>
          Already have an account? <Link href="/sign-in">Sign in</Link>
        </p>
      }
    >
      <form class="auth-form" onSubmit={form.onSubmit} noValidate aria-label="Create account">
        {formError && (
          <Alert tone="danger" title={formError.status === 403 ? 'Sign-up is turned off' : formError.title}>
            {formError.status === 403
              ? 'Ask a workspace admin to invite you.'
              : (formError.detail ?? 'Please try again in a moment.')}
          </Alert>
        )}
        {form.otherErrors.length > 0 && (
          <Alert tone="danger" title="Check your details">
            {form.otherErrors.join(' ')}
          </Alert>
        )}
        <TextField {...form.field('name')} label="Full name" autoComplete="name" required autoFocus />
        <TextField
          {...form.field('email')}
          label="Work email"
          type="email"
          autoComplete="email"
          inputMode="email"
          autoCapitalize="none"
          spellcheck={false}
          required
        />
        <TextField
          {...form.field('password')}
          label="Password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${min} characters. A few unrelated words make a strong, memorable password.`}
          required
          revealable
        />
        <Button type="submit" variant="primary" size="lg" block loading={form.submitting}>
          Create account
        </Button>
      </form>
    </AuthLayout>
  );
}
