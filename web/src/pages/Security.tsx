import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type UserSession } from '../api';
import { formatDateTime, formatFull, formatRelative, tooShort } from '../lib/format';
import { summariseUserAgent, type DeviceKind } from '../lib/ua';
import { Link } from '../router';
import { useAuthOptions, useSession } from '../session';
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  ErrorState,
  IconArrowRight,
  IconMonitor,
  IconPhone,
  IconTablet,
  IconTerminal,
  IconUser,
  PageHeader,
  Spinner,
  Table,
  TextField,
  useForm,
  useToast,
  type Column,
} from '../ui';
import { useTitle } from './title';

export function Security() {
  useTitle('Security');
  const [sessionsVersion, setSessionsVersion] = useState(0);
  return (
    <>
      <PageHeader
        title="Security"
        description="Review where your account is signed in and keep your password up to date."
      />
      <SessionsCard version={sessionsVersion} />
      <PasswordCard onChanged={() => setSessionsVersion((v) => v + 1)} />
      <Card class="link-card">
        <Link href="/settings/profile" class="link-row">
          <span class="link-row-icon" aria-hidden="true">
            <IconUser size={18} />
          </span>
          <span class="link-row-text">
            <span class="link-row-title">Your profile</span>
            <span class="link-row-sub">Your name, sign-in email, time zone and language, on the Profile page.</span>
          </span>
          <IconArrowRight size={16} />
        </Link>
      </Card>
    </>
  );
}

// ---- Sessions ------------------------------------------------------------------------------------

function DeviceIcon({ kind }: { kind: DeviceKind }) {
  const Icon = kind === 'phone' ? IconPhone : kind === 'tablet' ? IconTablet : kind === 'cli' ? IconTerminal : IconMonitor;
  return (
    <span class="device-icon" aria-hidden="true">
      <Icon size={18} />
    </span>
  );
}

function When({ iso, relative }: { iso: string; relative?: boolean }) {
  return (
    <time dateTime={iso} title={formatFull(iso)}>
      {relative ? formatRelative(iso) : formatDateTime(iso)}
    </time>
  );
}

function sortSessions(items: UserSession[]): UserSession[] {
  return [...items].sort((a, b) => {
    if (a.current !== b.current) return a.current ? -1 : 1;
    return b.last_seen_at.localeCompare(a.last_seen_at);
  });
}

function SessionsCard({ version }: { version: number }) {
  const toast = useToast();
  const [items, setItems] = useState<UserSession[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [ending, setEnding] = useState<string | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [endingAll, setEndingAll] = useState(false);

  const load = () => {
    setLoading(true);
    api
      .sessions()
      .then((r) => {
        setItems(sortSessions(r.items));
        setError(null);
      })
      .catch((e) => setError(e))
      .finally(() => setLoading(false));
  };
  useEffect(load, [version]);

  const failed = (title: string, e: unknown) => {
    if (e instanceof ApiError && e.status === 401) return; // the app is already on its way to sign-in
    toast({
      tone: 'danger',
      title,
      description: e instanceof ApiError ? (e.detail ?? e.title) : 'Please try again.',
    });
  };

  const endOne = async (s: UserSession) => {
    setEnding(s.id);
    try {
      await api.endSession(s.id);
      setItems((list) => list?.filter((x) => x.id !== s.id) ?? null);
      toast({ title: 'Session ended', description: `${summariseUserAgent(s.user_agent).label} is signed out.` });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setItems((list) => list?.filter((x) => x.id !== s.id) ?? null);
        toast({ tone: 'info', title: 'That session had already ended' });
      } else failed("Couldn't end the session", e);
    } finally {
      setEnding(null);
    }
  };

  const endOthers = async () => {
    setEndingAll(true);
    try {
      const r = await api.endOtherSessions();
      setConfirmAll(false);
      setItems((list) => list?.filter((x) => x.current) ?? null);
      const n = r?.ended ?? 0;
      toast({
        title: n === 1 ? 'Signed out of 1 other session' : `Signed out of ${n} other sessions`,
        description: 'You are still signed in on this device.',
      });
    } catch (e) {
      setConfirmAll(false);
      failed("Couldn't sign out the other sessions", e);
    } finally {
      setEndingAll(false);
    }
  };

  const others = items?.filter((s) => !s.current).length ?? 0;

  const columns: Column<UserSession>[] = [
    {
      key: 'device',
      header: 'Device',
      primary: true,
      class: 'col-device',
      render: (s) => {
        const d = summariseUserAgent(s.user_agent);
        return (
          <div class="device">
            <DeviceIcon kind={d.kind} />
            <div class="device-text">
              <span class="device-name" title={s.user_agent || undefined}>
                {d.label}
              </span>
              {s.current ? (
                <span class="device-sub">
                  <Badge tone="accent" dot>
                    This device
                  </Badge>
                </span>
              ) : (
                <span class="device-sub">{d.kind === 'cli' ? 'Command-line client' : d.kind === 'phone' ? 'Mobile browser' : 'Web browser'}</span>
              )}
            </div>
          </div>
        );
      },
    },
    { key: 'ip', header: 'IP address', class: 'nowrap', render: (s) => <span class="mono">{s.ip || '—'}</span> },
    { key: 'created', header: 'Signed in', class: 'nowrap', render: (s) => <When iso={s.created_at} /> },
    {
      key: 'seen',
      header: 'Last seen',
      class: 'nowrap',
      render: (s) =>
        s.current ? (
          <span class="active-now">
            <span class="active-dot" aria-hidden="true" />
            Active now
          </span>
        ) : (
          <When iso={s.last_seen_at} relative />
        ),
    },
    { key: 'expires', header: 'Expires', class: 'nowrap', render: (s) => <When iso={s.expires_at} relative /> },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (s) =>
        s.current ? null : (
          <Button size="sm" variant="secondary" loading={ending === s.id} onClick={() => endOne(s)} data-session-id={s.id}>
            End session
            <span class="visually-hidden">
              {' '}
              on {summariseUserAgent(s.user_agent).label}, {s.ip}
            </span>
          </Button>
        ),
    },
  ];

  return (
    <Card
      title="Sessions"
      description="Devices and browsers signed in to your account. End any session you don't recognise, then change your password."
      flush
      actions={
        items && (
          <Button variant="secondary" size="sm" disabled={others === 0} onClick={() => setConfirmAll(true)}>
            Sign out of all other sessions
          </Button>
        )
      }
      footer={
        items && others === 0 ? <p class="card-footer-note">You're not signed in anywhere else.</p> : undefined
      }
    >
      {items ? (
        <Table
          caption="Your signed-in sessions"
          columns={columns}
          rows={items}
          rowKey={(s) => s.id}
          rowClass={(s) => (s.current ? 'is-current' : undefined)}
        />
      ) : error ? (
        <ErrorState error={error} title="Couldn't load your sessions" onRetry={load} retrying={loading} />
      ) : (
        <div class="card-loading">
          <Spinner label="Loading sessions" />
        </div>
      )}
      <ConfirmDialog
        open={confirmAll}
        title="Sign out of all other sessions?"
        description={
          others === 1
            ? 'The other device signed in to your account will be signed out. You stay signed in here.'
            : `All ${others} other devices and browsers signed in to your account will be signed out. You stay signed in here.`
        }
        confirmLabel="Sign out other sessions"
        busy={endingAll}
        onConfirm={endOthers}
        onCancel={() => setConfirmAll(false)}
      />
    </Card>
  );
}

// ---- Password ------------------------------------------------------------------------------------

function PasswordCard({ onChanged }: { onChanged: () => void }) {
  const toast = useToast();
  const { state } = useSession();
  const { options } = useAuthOptions();
  const min = options?.password_min_length ?? 12;
  const email = state.status === 'signed-in' ? state.me.user.email : '';

  const form = useForm({
    initial: { current_password: '', new_password: '' },
    validate: (v) => ({
      current_password: v.current_password ? undefined : 'Enter your current password.',
      new_password: !v.new_password
        ? 'Choose a new password.'
        : [...v.new_password].length < min
          ? tooShort(v.new_password, min)
          : v.new_password === v.current_password
            ? 'Choose a password different from your current one.'
            : undefined,
    }),
    messages: {
      current_password: { incorrect: "That's not your current password." },
      new_password: {
        common_password: 'This password is too common. Choose one that would be hard to guess.',
        length: `Use at least ${min} characters.`,
      },
    },
    onSubmit: async (v) => {
      await api.changePassword(v.current_password, v.new_password);
      form.reset();
      onChanged();
      toast({
        title: 'Password changed',
        description: 'Your other sessions were signed out. You are still signed in on this device.',
      });
    },
  });

  return (
    <Card title="Password" description="Changing your password signs you out everywhere else.">
      <form class="password-form" onSubmit={form.onSubmit} noValidate aria-label="Change password">
        <input type="text" name="username" autoComplete="username" value={email} hidden readOnly />
        {form.formError && form.formError.status !== 401 && (
          <Alert tone="danger" title={form.formError.title}>
            {form.formError.detail ?? 'Please try again.'}
          </Alert>
        )}
        <TextField
          {...form.field('current_password')}
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          revealable
        />
        <TextField
          {...form.field('new_password')}
          label="New password"
          type="password"
          autoComplete="new-password"
          hint={`At least ${min} characters.`}
          required
          revealable
        />
        <div class="form-actions">
          <Button type="submit" variant="primary" loading={form.submitting}>
            Update password
          </Button>
        </div>
      </form>
    </Card>
  );
}
