// Notifications: the signed-in user's own preferences in this workspace, as a grid of topics ×
// channels. Each switch saves at once; Security is locked on; "Reset to defaults" asks first.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, workspacesApi, type NotificationGroup } from '../api';
import {
  Button,
  Card,
  ConfirmDialog,
  ErrorState,
  IconBell,
  IconCheck,
  IconLock,
  IconMail,
  IconUndo,
  PageHeader,
  Switch,
  useToast,
} from '../ui';
import { workspaceName } from '../workspace';
import { useTitle } from './title';
import { PageSpinner, type WorkspacePageProps } from './WorkspaceRoutes';

type Channel = 'email' | 'in_app';
const CHANNELS: { id: Channel; label: string; icon: typeof IconMail }[] = [
  { id: 'email', label: 'Email', icon: IconMail },
  { id: 'in_app', label: 'In-app', icon: IconBell },
];

export function Notifications({ wsId, section, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const toast = useToast();
  const [groups, setGroups] = useState<NotificationGroup[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [busy, setBusy] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [savedRow, setSavedRow] = useState<string | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);
  const [resetting, setResetting] = useState(false);
  const statusTimer = useRef(0);
  const readOnly = section.access !== 'write';

  const load = () => {
    setLoading(true);
    workspacesApi
      .notifications(wsId)
      .then((r) => {
        setGroups(r.groups);
        setError(null);
      })
      .catch(setError)
      .finally(() => setLoading(false));
  };
  useEffect(load, [wsId]);

  const announce = (text: string, row: string) => {
    setStatus(text);
    setSavedRow(row);
    window.clearTimeout(statusTimer.current);
    statusTimer.current = window.setTimeout(() => {
      setStatus('');
      setSavedRow(null);
    }, 2500);
  };

  const toggle = async (g: NotificationGroup, channel: Channel, on: boolean) => {
    const key = `${g.id}.${channel}`;
    setBusy(key);
    setGroups((list) => list?.map((x) => (x.id === g.id ? { ...x, [channel]: on } : x)) ?? null);
    try {
      const r = await workspacesApi.patchNotifications(wsId, { [g.id]: { [channel]: on } });
      setGroups(r.groups);
      announce(`Saved: ${g.title} ${channel === 'email' ? 'email' : 'in-app'} ${on ? 'on' : 'off'}`, g.id);
    } catch (e) {
      setGroups((list) => list?.map((x) => (x.id === g.id ? { ...x, [channel]: !on } : x)) ?? null);
      toast({
        tone: 'danger',
        title: "Couldn't save that change",
        description: e instanceof ApiError ? (e.errors[0]?.message ?? e.detail ?? e.title) : 'Please try again.',
      });
    } finally {
      setBusy(null);
    }
  };

  const reset = async () => {
    setResetting(true);
    try {
      const r = await workspacesApi.resetNotifications(wsId);
      setGroups(r.groups);
      setConfirmReset(false);
      toast({ title: 'Notification preferences reset', description: 'Every topic is back to its default.' });
    } catch (e) {
      setConfirmReset(false);
      toast({ tone: 'danger', title: "Couldn't reset", description: e instanceof ApiError ? (e.detail ?? e.title) : undefined });
    } finally {
      setResetting(false);
    }
  };

  return (
    <>
      <PageHeader
        title={section.title}
        description={`Choose how you hear about what happens in ${name}. These preferences are yours alone and apply only in this workspace.`}
      />
      <Card
        class="notif-card"
        title="Topics and channels"
        description="Email goes to your sign-in address; in-app notifications appear in Atrium."
        flush
        actions={
          groups &&
          !readOnly && (
            <Button size="sm" variant="secondary" icon={<IconUndo size={16} />} onClick={() => setConfirmReset(true)}>
              Reset to defaults
            </Button>
          )
        }
      >
        <p class="visually-hidden" role="status">
          {status}
        </p>
        {groups ? (
          <table class="notif-grid">
            <caption class="visually-hidden">Notification preferences for {name}</caption>
            <thead>
              <tr>
                <th scope="col">Topic</th>
                {CHANNELS.map((c) => (
                  <th scope="col" key={c.id} class="notif-channel">
                    <span class="notif-channel-head">
                      <c.icon size={14} />
                      {c.label}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.id} data-group={g.id} class={g.locked ? 'is-locked' : undefined}>
                  <th scope="row" class="notif-topic">
                    <span class="notif-title">
                      {g.title}
                      {g.locked && (
                        <span class="notif-locked">
                          <IconLock size={12} />
                          Always on
                        </span>
                      )}
                      {savedRow === g.id && (
                        <span class="notif-saved" aria-hidden="true">
                          <IconCheck size={14} />
                          Saved
                        </span>
                      )}
                    </span>
                    <span class="notif-desc" id={`notif-${g.id}-desc`}>
                      {g.locked
                        ? 'Sign-ins from new devices, password and API key changes. These protect your account, so they can’t be turned off.'
                        : g.description}
                    </span>
                  </th>
                  {CHANNELS.map((c) => (
                    <td key={c.id} class="notif-cell" data-label={c.label}>
                      <Switch
                        checked={g[c.id]}
                        label={`${g.title}: ${c.label}`}
                        hideLabel
                        locked={g.locked}
                        disabled={readOnly}
                        busy={busy === `${g.id}.${c.id}`}
                        describedBy={g.locked ? `notif-${g.id}-desc` : undefined}
                        data-channel={c.id}
                        onChange={(on) => void toggle(g, c.id, on)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        ) : error ? (
          <ErrorState error={error} title="Couldn't load your preferences" onRetry={load} retrying={loading} />
        ) : (
          <PageSpinner label="Loading notification preferences" />
        )}
      </Card>
      <ConfirmDialog
        open={confirmReset}
        title="Reset notification preferences?"
        description={`Every topic in ${name} goes back to its default channels. Your choices in other workspaces stay as they are.`}
        confirmLabel="Reset to defaults"
        tone="primary"
        busy={resetting}
        onConfirm={reset}
        onCancel={() => setConfirmReset(false)}
      />
    </>
  );
}
