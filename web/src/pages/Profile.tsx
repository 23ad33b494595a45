// Profile: the signed-in user's own details (name, email, avatar, time zone, language). They follow
// the user into every workspace, so this page is an account page, apart from any workspace's
// business settings. A new email needs the current password and waits for the link mailed to the
// new address ("pending: confirm at ..."); following it switches the address and signs out the other
// sessions, and the old address is told, with a link to undo it.
import { useEffect, useState } from 'preact/hooks';
import { profileApi, type Profile as ProfileDoc } from '../api';
import { formatDateTime } from '../lib/format';
import { localeOptions, timezoneGroups, timezoneLabel } from '../lib/options';
import { Link } from '../router';
import { useSession } from '../session';
import {
  Alert,
  Button,
  Card,
  ErrorState,
  IconArrowRight,
  IconMail,
  IconShield,
  looksLikeEmail,
  PageHeader,
  Select,
  TextField,
  useForm,
  SaveStatus,
  useToast,
} from '../ui';
import { useCurrentWorkspaceId, useWorkspaces, findWorkspace, workspaceName } from '../workspace';
import { isUploadedAvatar, ProfileAvatar } from './ProfileAvatar';
import { useTitle } from './title';
import { PageSpinner } from './WorkspaceRoutes';

interface Values extends Record<string, string> {
  name: string;
  email: string;
  current_password: string;
  avatar_url: string;
  timezone: string;
  locale: string;
}

const EDITABLE = ['name', 'email', 'avatar_url', 'timezone', 'locale'] as const;

function valuesOf(p: ProfileDoc): Values {
  return {
    name: p.name,
    email: p.email,
    current_password: '',
    avatar_url: p.avatar_url ?? '',
    timezone: p.timezone ?? '',
    locale: p.locale ?? '',
  };
}

function patchOf(p: ProfileDoc, v: Values): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const k of EDITABLE) {
    const next = v[k].trim();
    const before = (p[k] as string | null) ?? '';
    if (k === 'email' ? next.toLowerCase() === before.toLowerCase() : next === before) continue;
    out[k] = next === '' && k !== 'name' && k !== 'email' ? null : next;
  }
  return out;
}

export function Profile() {
  useTitle('Profile');
  const [profile, setProfile] = useState<ProfileDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const load = () => {
    setLoading(true);
    profileApi
      .get()
      .then((p) => {
        setProfile(p);
        setError(null);
      })
      .catch(setError)
      .finally(() => setLoading(false));
  };
  useEffect(load, []);

  return (
    <>
      <PageHeader
        title="Profile"
        description="Your own details. They follow you into every workspace you belong to; a workspace's business details live in its Workspace Settings."
      />
      {profile ? (
        <ProfileForm profile={profile} onSaved={setProfile} />
      ) : error ? (
        <ErrorState error={error} title="Couldn't load your profile" onRetry={load} retrying={loading} />
      ) : (
        <PageSpinner label="Loading your profile" />
      )}
      <Card class="link-card">
        <Link href="/settings/security" class="link-row">
          <span class="link-row-icon" aria-hidden="true">
            <IconShield size={18} />
          </span>
          <span class="link-row-text">
            <span class="link-row-title">Password and sessions</span>
            <span class="link-row-sub">Change your password and see where you're signed in, on the Security page.</span>
          </span>
          <IconArrowRight size={16} />
        </Link>
      </Card>
    </>
  );
}

function ProfileForm({ profile, onSaved }: { profile: ProfileDoc; onSaved: (p: ProfileDoc) => void }) {
  const toast = useToast();
  const { state, signedIn } = useSession();
  const { workspaces } = useWorkspaces();
  const wsId = useCurrentWorkspaceId();
  const ws = findWorkspace(workspaces, wsId);
  const [saved, setSaved] = useState(profile);

  const form = useForm<Values>({
    initial: valuesOf(profile),
    validate: (v) => {
      const emailChanges = v.email.trim().toLowerCase() !== saved.email.toLowerCase();
      return {
        name: v.name.trim() ? undefined : 'Enter your name.',
        email: !v.email.trim()
          ? 'Enter your email address.'
          : !looksLikeEmail(v.email)
            ? 'Enter an email address like name@company.com.'
            : undefined,
        current_password: emailChanges && !v.current_password ? 'Enter your current password to change your email.' : undefined,
      };
    },
    messages: {
      current_password: { incorrect: "That's not your current password.", required: 'Enter your current password to change your email.' },
      email: { taken: 'Another account already uses this email.' },
    },
    save: { what: 'your profile', dirty: (v) => Object.keys(patchOf(saved, v)).length > 0 },
    onSubmit: async (v) => {
      const patch: Record<string, string | null> = patchOf(saved, v);
      if (Object.keys(patch).length === 0) return;
      const emailChanged = 'email' in patch;
      if (emailChanged) patch.current_password = v.current_password;
      const next = await profileApi.patch(patch);
      setSaved(next);
      onSaved(next);
      form.reset(valuesOf(next));
      if (state.status === 'signed-in')
        signedIn({ ...state.me, user: { ...state.me.user, name: next.name, email: next.email } });
      toast(
        emailChanged && next.pending_email
          ? {
              title: 'Confirm your new email',
              description: `We sent a link to ${next.pending_email.email}. Until you follow it, you keep signing in with ${next.email}.`,
            }
          : { title: 'Profile saved' },
      );
    },
  });

  const emailChanges = form.values.email.trim().toLowerCase() !== saved.email.toLowerCase();
  const dirty = form.dirty;

  return (
    <form class="profile-form" onSubmit={form.onSubmit} noValidate aria-label="Profile">
      {form.formError && form.formError.status !== 401 && (
        <Alert tone="danger" title={form.formError.title} class="settings-alert">
          {form.formError.detail ?? 'Please try again.'}
        </Alert>
      )}
      {form.otherErrors.length > 0 && (
        <Alert tone="danger" title="Some changes were not accepted" class="settings-alert">
          {form.otherErrors.join(' ')}
        </Alert>
      )}
      <Card title="Personal information" description="How you appear to your teammates.">
        <div class="profile-head">
          <ProfileAvatar
            profile={saved}
            onChanged={(next) => {
              setSaved(next);
              onSaved(next);
              form.setValue('avatar_url', next.avatar_url ?? '');
            }}
          />
          <div class="profile-head-text">
            <p class="profile-name">{saved.name}</p>
            <p class="profile-email">{saved.email}</p>
            <p class="profile-since">Member since {formatDateTime(saved.created_at)}</p>
          </div>
        </div>
        <div class="form-grid">
          <TextField {...form.field('name')} label="Full name" autoComplete="name" required />
          <TextField
            {...form.field('email')}
            label="Email"
            type="email"
            autoComplete="email"
            spellcheck={false}
            required
            hint={emailChanges ? undefined : 'You sign in with this address.'}
          />
          {saved.pending_email && !emailChanges && (
            <p class="span-2 email-pending" role="note">
              <IconMail size={16} aria-hidden="true" />
              <span>
                Pending: confirm at <strong>{saved.pending_email.email}</strong>. We sent a link there; it works until{' '}
                {formatDateTime(saved.pending_email.expires_at)}. Until then you sign in with {saved.email}.
              </span>
            </p>
          )}
          {emailChanges && (
            <div class="span-2 email-change">
              <Alert tone="info" title="Confirm it's you">
                Enter your current password to continue. We'll send a link to the new address; nothing changes until you
                follow it, and then your other devices are signed out.
              </Alert>
              <TextField
                {...form.field('current_password')}
                label="Current password"
                type="password"
                autoComplete="current-password"
                revealable
                required
              />
            </div>
          )}
          {!isUploadedAvatar(saved.avatar_url) && (
          <TextField
            {...form.field('avatar_url')}
            label="Avatar URL"
            type="url"
            optional
            spellcheck={false}
            placeholder="https://"
            hint="Or link to a square image (https://) instead of uploading one."
            class="span-2"
          />
          )}
        </div>
      </Card>
      <Card title="Preferences" description="How Atrium shows dates, times and language to you.">
        <div class="form-grid">
          <Select
            {...form.field('timezone')}
            label="Your time zone"
            placeholder={`Same as the workspace${ws ? ` (${workspaceName(ws)})` : ''}`}
            groups={timezoneGroups()}
            hint={saved.timezone ? `Now: ${timezoneLabel(saved.timezone)}` : 'Times follow the workspace you are in.'}
          />
          <Select
            {...form.field('locale')}
            label="Language and region"
            placeholder="Same as my browser"
            options={localeOptions()}
          />
        </div>
      </Card>
      <div class={dirty ? 'savebar is-dirty' : 'savebar'}>
        <SaveStatus failure={form.failure} dirty={dirty} />
        <div class="savebar-actions">
          <Button variant="ghost" disabled={!dirty || form.submitting} onClick={() => form.reset(valuesOf(saved))}>
            Discard
          </Button>
          <Button type="submit" variant="primary" disabled={!dirty} loading={form.submitting}>
            Save profile
          </Button>
        </div>
      </div>
    </form>
  );
}
