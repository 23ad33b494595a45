// /invitations/{token}: where an invitation email leads. Names the workspace, who invited, the role
// and the invited address. Signed in with that address: one button to join. Signed in as someone
// else: why it can't be used, and a sign-out. Signed out: name + password to create the account and
// join, or "Sign in" that comes back here. Expired, cancelled, used and unknown links each get a page
// that says what happened and what to do.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Role } from '../api';
import { publicApi, ROLE_INFO, type PublicInvitation } from '../api-team';
import { formatDateTime, formatRelative, formatWait, tooShort } from '../lib/format';
import { Link, navigate } from '../router';
import { useAuthOptions, useSession } from '../session';
import { AuthLayout } from '../shell/AuthLayout';
import { WorkspaceTile } from '../shell/WorkspaceTile';
import { Alert, Badge, Button, ErrorState, IconClock, IconCompass, IconMail, IconX, Spinner, TextField, useForm, useToast } from '../ui';
import { useTitle } from './title';
import './public.css';

type Load =
  | { status: 'loading' }
  | { status: 'not-found' }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; inv: PublicInvitation };

const article = (r: Role) => (r === 'admin' || r === 'owner' ? 'an' : 'a');

function slugOf(e: unknown): string {
  return e instanceof ApiError ? e.type.replace(/^urn:atrium:problem:/, '') : '';
}

export function AcceptInvitation({ token }: { token: string }) {
  const [load, setLoad] = useState<Load>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setLoad({ status: 'loading' });
    publicApi
      .invitation(token)
      .then((inv) => live && setLoad({ status: 'ready', inv }))
      .catch((e) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404) setLoad({ status: 'not-found' });
        else setLoad({ status: 'error', error: e });
      });
    return () => {
      live = false;
    };
  }, [token, attempt]);

  if (load.status === 'loading') {
    return (
      <Frame title="Opening your invitation">
        <div class="auth-loading">
          <Spinner label="Loading the invitation" />
        </div>
      </Frame>
    );
  }
  if (load.status === 'error')
    return (
      <Frame title="We couldn't open this invitation">
        <ErrorState error={load.error} onRetry={() => setAttempt((a) => a + 1)} />
      </Frame>
    );
  if (load.status === 'not-found') return <NotFound />;
  const { inv } = load;
  if (inv.status !== 'pending')
    return <Ended inv={inv} />;
  return (
    <Pending
      token={token}
      inv={inv}
      onStatus={(s) => setLoad({ status: 'ready', inv: { ...inv, status: s } })}
      onGone={() => setLoad({ status: 'not-found' })}
    />
  );
}

function Frame({
  title,
  subtitle,
  children,
  footer,
  icon,
}: {
  title: string;
  subtitle?: ComponentChildren;
  children?: ComponentChildren;
  footer?: ComponentChildren;
  /** Set for the dead ends (expired, cancelled, used, unknown). */
  icon?: ComponentChildren;
}) {
  useTitle(title);
  return (
    <AuthLayout title={title} subtitle={subtitle} footer={footer} wide variant={icon ? 'ended' : undefined} icon={icon}>
      {children}
    </AuthLayout>
  );
}

/** The invitation at a glance: workspace, role, invited address, inviter's note, expiry. */
function Summary({ inv, compact }: { inv: PublicInvitation; compact?: boolean }) {
  return (
    <div class={compact ? 'invite-card is-compact' : 'invite-card'}>
      <div class="invite-card-head">
        <WorkspaceTile workspace={{ id: inv.workspace.id, name: inv.workspace.name }} size="lg" />
        <div class="invite-card-title">
          <p class="invite-card-ws">{inv.workspace.name}</p>
          <p class="invite-card-by">Invited by {inv.inviter.name}</p>
        </div>
      </div>
      {!compact && (
        <dl class="invite-card-facts">
          <div>
            <dt>Role</dt>
            <dd>
              <Badge tone={inv.role === 'owner' ? 'accent' : 'neutral'}>{ROLE_INFO[inv.role]?.label ?? inv.role}</Badge>
              <span class="invite-card-role">{ROLE_INFO[inv.role]?.summary}</span>
            </dd>
          </div>
          <div>
            <dt>For</dt>
            <dd class="invite-card-email">{inv.email}</dd>
          </div>
          <div>
            <dt>Valid until</dt>
            <dd>
              <time dateTime={inv.expires_at}>{formatDateTime(inv.expires_at)}</time>
              <span class="muted"> ({formatRelative(inv.expires_at)})</span>
            </dd>
          </div>
        </dl>
      )}
      {!compact && inv.message && (
        <figure class="invite-card-note">
          <figcaption>{inv.inviter.name} wrote</figcaption>
          <blockquote>{inv.message}</blockquote>
        </figure>
      )}
    </div>
  );
}

function NotFound() {
  const { state } = useSession();
  return (
    <Frame
      icon={<IconCompass size={22} />}
      title="This invitation link isn't valid"
      subtitle="It may be incomplete (check that you copied all of it), or it was replaced: resending an invitation sends a new link, and the old one stops working."
      footer={<p>Look for the most recent invitation email, or ask whoever invited you to resend it.</p>}
    >
      <Link href={state.status === 'signed-in' ? '/' : '/sign-in'} class="btn btn-secondary btn-lg btn-block">
        {state.status === 'signed-in' ? 'Go to my workspaces' : 'Go to sign in'}
      </Link>
    </Frame>
  );
}

function Ended({ inv }: { inv: PublicInvitation }) {
  const { state } = useSession();
  const signedIn = state.status === 'signed-in';
  const mine = signedIn && state.me.user.email.toLowerCase() === inv.email.toLowerCase();
  const copy =
    inv.status === 'expired'
      ? {
          title: 'This invitation has expired',
          subtitle: `Invitation links work for a limited time, and this one ran out on ${formatDateTime(inv.expires_at)}. Ask ${inv.inviter.name} to resend it: you'll get a new link by email.`,
          icon: <IconClock size={22} />,
        }
      : inv.status === 'revoked'
        ? {
            title: 'This invitation was cancelled',
            subtitle: `${inv.inviter.name} or another admin of ${inv.workspace.name} cancelled it, so the link no longer works. If you still need access, ask them to invite you again.`,
            icon: <IconX size={22} />,
          }
        : {
            title: 'This invitation was already used',
            subtitle: mine
              ? `You already joined ${inv.workspace.name} with it.`
              : `Someone already joined ${inv.workspace.name} with this link. If that was you, sign in as ${inv.email} to open it.`,
            icon: <IconMail size={22} />,
          };
  return (
    <Frame icon={copy.icon} title={copy.title} subtitle={copy.subtitle}>
      <Summary inv={inv} compact />
      {inv.status === 'accepted' && mine ? (
        <Link href={`/w/${encodeURIComponent(inv.workspace.id)}`} class="btn btn-primary btn-lg btn-block">
          Open {inv.workspace.name}
        </Link>
      ) : signedIn ? (
        <Link href="/" class="btn btn-secondary btn-lg btn-block">
          Go to my workspaces
        </Link>
      ) : (
        <Link href="/sign-in" class="btn btn-secondary btn-lg btn-block">
          Go to sign in
        </Link>
      )}
    </Frame>
  );
}

function Pending({
  token,
  inv,
  onStatus,
  onGone,
}: {
  token: string;
  inv: PublicInvitation;
  onStatus: (s: PublicInvitation['status']) => void;
  onGone: () => void;
}) {
  const { state, signedIn, signOut } = useSession();
  const { options } = useAuthOptions();
  const toast = useToast();
  const min = options?.password_min_length ?? 12;
  const [joining, setJoining] = useState(false);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const here = `/invitations/${token}`;
  const signInHref = `/sign-in?next=${encodeURIComponent(here)}&email=${encodeURIComponent(inv.email)}`;
  const ws = inv.workspace.name;

  const welcome = (wsId: string) => {
    navigate(`/w/${encodeURIComponent(wsId)}`, { replace: true });
    toast({ title: `Welcome to ${ws}`, description: `You joined as ${article(inv.role)} ${ROLE_INFO[inv.role].label.toLowerCase()}.` });
  };

  /** Turns a refusal into the page's state; returns true when it was handled here. */
  const refused = (e: unknown): boolean => {
    const slug = slugOf(e);
    if (slug === 'invitation-expired') onStatus('expired');
    else if (slug === 'invitation-revoked') onStatus('revoked');
    else if (slug === 'invitation-accepted') onStatus('accepted');
    else if (slug === 'invitation-not-found') onGone();
    else if (e instanceof ApiError && (e.status === 409 || e.status === 429 || e.status === 403)) setProblem(e);
    else return false;
    return true;
  };

  const form = useForm({
    initial: { name: '', password: '' },
    validate: (v) => ({
      name: v.name.trim() ? undefined : 'Enter your name.',
      password: !v.password ? 'Choose a password.' : [...v.password].length < min ? tooShort(v.password, min) : undefined,
    }),
    messages: {
      password: {
        common_password: 'This password is too common. Choose one that would be hard to guess.',
        length: `Use at least ${min} characters.`,
      },
    },
    onSubmit: async (v) => {
      setProblem(null);
      try {
        const r = await publicApi.acceptNew(token, v.name.trim(), v.password);
        signedIn({ user: r.user, csrf_token: r.csrf_token, session: r.session });
        welcome(r.workspace_id);
      } catch (e) {
        if (!refused(e)) throw e;
      }
    },
  });

  const join = async () => {
    setJoining(true);
    setProblem(null);
    try {
      const r = await publicApi.acceptSignedIn(token);
      welcome(r.workspace_id);
    } catch (e) {
      if (!refused(e)) setProblem(e instanceof ApiError ? e : new ApiError(0, { title: 'Something went wrong', detail: 'Try again.' }));
    } finally {
      setJoining(false);
    }
  };

  const switchAccount = async () => {
    setSigningOut(true);
    try {
      await signOut();
      setProblem(null);
    } catch {
      toast({ tone: 'danger', title: "Couldn't sign out", description: 'Check your connection and try again.' });
    } finally {
      setSigningOut(false);
    }
  };

  const title = `Join ${ws}`;
  const subtitle = (
    <>
      <strong>{inv.inviter.name}</strong> invited you to join <strong>{ws}</strong> on Atrium as {article(inv.role)}{' '}
      {ROLE_INFO[inv.role].label.toLowerCase()}.
    </>
  );

  const problemBox = problem && <ProblemAlert problem={problem} inv={inv} signInHref={signInHref} />;

  if (state.status === 'loading')
    return (
      <Frame title={title} subtitle={subtitle}>
        <Summary inv={inv} />
        <div class="auth-loading">
          <Spinner label="Checking whether you're signed in" />
        </div>
      </Frame>
    );

  if (state.status === 'signed-in') {
    const me = state.me.user;
    const match = me.email.toLowerCase() === inv.email.toLowerCase();
    if (!match)
      return (
        <Frame title={title} subtitle={subtitle}>
          <Summary inv={inv} />
          <Alert tone="warning" title={`This invitation is for ${inv.email}`} class="accept-mismatch">
            You're signed in as <strong>{me.email}</strong>. Only {inv.email} can use it. Sign out, then sign in as {inv.email} (or create that
            account) on this page.
          </Alert>
          <div class="accept-actions">
            <Button variant="primary" size="lg" block loading={signingOut} onClick={() => void switchAccount()}>
              Sign out and continue
            </Button>
            <Link href="/" class="btn btn-ghost btn-lg btn-block">
              Stay signed in as {me.email}
            </Link>
          </div>
        </Frame>
      );
    return (
      <Frame title={title} subtitle={subtitle}>
        <Summary inv={inv} />
        {problemBox}
        <div class="accept-actions">
          <Button variant="primary" size="lg" block loading={joining} onClick={() => void join()}>
            Join {ws}
          </Button>
          <p class="accept-as">
            Signed in as <strong>{me.email}</strong>
          </p>
        </div>
      </Frame>
    );
  }

  return (
    <Frame
      title={title}
      subtitle={subtitle}
      footer={
        <p>
          Already have an account with {inv.email}? <Link href={signInHref}>Sign in to accept</Link>
        </p>
      }
    >
      <Summary inv={inv} />
      <form class="auth-form accept-form" onSubmit={form.onSubmit} noValidate aria-label="Create your account and join">
        <p class="accept-form-lead">Create your Atrium account to join.</p>
        {problemBox}
        {form.formError && !problem && (
          <Alert tone="danger" title={form.formError.title}>
            {form.formError.detail ?? 'Please try again in a moment.'}
          </Alert>
        )}
        {form.otherErrors.length > 0 && (
          <Alert tone="danger" title="Check your details">
            {form.otherErrors.join(' ')}
          </Alert>
        )}
        <TextField
          name="email"
          label="Email"
          type="email"
          value={inv.email}
          onValue={() => {}}
          readOnly
          autoComplete="username"
          hint="The address the invitation was sent to."
        />
        <TextField {...form.field('name')} label="Full name" autoComplete="name" required autoFocus />
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
          Create account and join
        </Button>
      </form>
    </Frame>
  );
}

function ProblemAlert({ problem, inv, signInHref }: { problem: ApiError; inv: PublicInvitation; signInHref: string }) {
  const slug = problem.type.replace(/^urn:atrium:problem:/, '');
  const ws = inv.workspace.name;
  if (slug === 'invitation-account-exists')
    return (
      <Alert tone="info" title={`You already have an account with ${inv.email}`}>
        Sign in with it to accept. <Link href={signInHref}>Sign in to accept</Link>
      </Alert>
    );
  if (slug === 'invitation-already-member')
    return (
      <Alert tone="info" title={`You're already a member of ${ws}`}>
        <Link href={`/w/${encodeURIComponent(inv.workspace.id)}`}>Open {ws}</Link>
      </Alert>
    );
  if (slug === 'invitation-email-mismatch')
    return (
      <Alert tone="warning" title={`This invitation is for ${inv.email}`}>
        You're signed in with another address. Sign out, then open this link again.
      </Alert>
    );
  if (slug === 'seats-full')
    return (
      <Alert tone="warning" title={`${ws} has no free seat right now`}>
        Ask {inv.inviter.name} to free a seat or add seats in Billing, then open this link again. Your invitation stays valid until{' '}
        {formatDateTime(inv.expires_at)}.
      </Alert>
    );
  if (problem.status === 429)
    return (
      <Alert tone="danger" title="Too many attempts">
        Try again in {formatWait(problem.retryAfter ?? 60)}.
      </Alert>
    );
  return (
    <Alert tone="danger" title={problem.title}>
      {problem.detail ?? 'Please try again in a moment.'}
    </Alert>
  );
}
