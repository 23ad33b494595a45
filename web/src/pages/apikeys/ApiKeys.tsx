// API Keys: the workspace's keys for the public API. The list (name and prefix, scopes, owner,
// creator, last use with its addresses, expiry and status), what needs attention (keys expiring within
// 30 days, keys unused for 90), creating a key (then its secret, shown once), rotating with an overlap,
// revoking, and the key policy (maximum and default lifetime, whether keys may never expire).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { apiKeysApi, isLive, type ApiKey, type KeyPolicy, type KeyWithSecret } from '../../api-keys';
import { formatDate, formatDateTime, formatFull, formatRelative, initials } from '../../lib/format';
import { useSession } from '../../session';
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  IconBuilding,
  IconKey,
  IconMore,
  IconPlus,
  IconRefresh,
  IconTrash,
  Menu,
  PageHeader,
  Select,
  Spinner,
  Table,
  useToast,
  type Column,
  type MenuItem,
} from '../../ui';
import { findWorkspace, useWorkspaces, workspaceName } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { AddressPopover } from './AddressPopover';
import { CreateKeyDialog } from './CreateKeyDialog';
import {
  daysLeft,
  daysText,
  expiresSoon,
  groupScopes,
  isStale,
  maskedPrefix,
  scopeGrants,
  chipTitle,
  sectionTitle,
  STALE_DAYS,
  type ScopeSection,
} from './model';
import { PolicyCard } from './PolicyCard';
import { SecretDialog } from './SecretDialog';
import './apikeys.css';

const VISIBLE_SCOPES = 3;

const OVERLAPS = [
  { value: '0', label: 'Stop it right away' },
  { value: '1', label: '1 hour' },
  { value: '24', label: '24 hours (recommended)' },
  { value: '72', label: '3 days' },
  { value: '168', label: '7 days' },
];

type Reveal = { result: KeyWithSecret; kind: 'created' | 'rotated'; oldPrefix?: string; overlapUntil?: string | null };

function problemText(e: unknown): string | undefined {
  return e instanceof ApiError ? (e.errors[0]?.message ?? e.detail ?? e.title) : undefined;
}

export function ApiKeys({ wsId, section, sections, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const toast = useToast();
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.me.user : null;
  const { workspaces } = useWorkspaces();
  const parent = workspace?.parent_id ? findWorkspace(workspaces, workspace.parent_id) : undefined;
  const canWrite = section.access === 'write';

  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const [policy, setPolicy] = useState<KeyPolicy | null>(null);
  const [policyError, setPolicyError] = useState<unknown>(null);
  const [policyVersion, setPolicyVersion] = useState(0);
  const [scopeSections, setScopeSections] = useState<ScopeSection[] | null>(null);
  const [scopesError, setScopesError] = useState<unknown>(null);
  const [scopesVersion, setScopesVersion] = useState(0);
  const [creating, setCreating] = useState(false);
  const [reveal, setReveal] = useState<Reveal | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rotating, setRotating] = useState<ApiKey | null>(null);
  const [busy, setBusy] = useState(false);
  const [showInactive, setShowInactive] = useState(false);
  const [fresh, setFresh] = useState<string | null>(null);
  const now = Date.now();

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    apiKeysApi
      .list(wsId, ctl.signal)
      .then((r) => {
        setKeys(r.items);
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, version]);

  useEffect(() => {
    const ctl = new AbortController();
    apiKeysApi
      .policy(wsId, ctl.signal)
      .then((p) => {
        setPolicy(p);
        setPolicyError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setPolicyError(e);
      });
    return () => ctl.abort();
  }, [wsId, policyVersion]);

  useEffect(() => {
    let live = true;
    apiKeysApi
      .scopes()
      .then((s) => live && (setScopeSections(groupScopes(s)), setScopesError(null)))
      .catch((e) => live && setScopesError(e));
    return () => {
      live = false;
    };
  }, [scopesVersion]);

  const refresh = () => setVersion((v) => v + 1);
  const sectionsList = scopeSections ?? [];

  const live = useMemo(() => (keys ?? []).filter(isLive), [keys]);
  const inactive = useMemo(() => (keys ?? []).filter((k) => !isLive(k)), [keys]);
  const soon = live.filter((k) => expiresSoon(k, now));
  const stale = live.filter((k) => isStale(k, now) && !expiresSoon(k, now));
  const shown = showInactive ? [...live, ...inactive] : live;
  const byId = useMemo(() => new Map((keys ?? []).map((k) => [k.id, k])), [keys]);

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await apiKeysApi.revoke(wsId, revoking.id);
      toast({ title: `${revoking.name} is revoked`, description: 'Requests that use it are refused from now on.' });
      setRevoking(null);
      refresh();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) {
        toast({ tone: 'danger', title: 'This key changed meanwhile', description: 'The list has been refreshed.' });
        setRevoking(null);
        refresh();
      } else {
        toast({ tone: 'danger', title: "Couldn't revoke the key", description: problemText(e) });
      }
    } finally {
      setBusy(false);
    }
  };

  const rotate = async (k: ApiKey, overlapHours: number) => {
    setBusy(true);
    try {
      const r = await apiKeysApi.rotate(wsId, k.id, overlapHours);
      setRotating(null);
      setFresh(r.key.id);
      setReveal({
        result: r,
        kind: 'rotated',
        oldPrefix: k.prefix,
        overlapUntil: overlapHours > 0 ? new Date(Date.now() + overlapHours * 3_600_000).toISOString() : null,
      });
      refresh();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) {
        toast({
          tone: 'danger',
          title: "This key can't be rotated any more",
          description: 'It was revoked, expired or rotated meanwhile. The list has been refreshed.',
        });
        setRotating(null);
        refresh();
      } else {
        toast({ tone: 'danger', title: "Couldn't rotate the key", description: problemText(e) });
      }
    } finally {
      setBusy(false);
    }
  };

  const itemsFor = (k: ApiKey): MenuItem[] => {
    const items: MenuItem[] = [];
    if (k.status === 'active')
      items.push({ id: 'rotate', label: 'Rotate…', icon: <IconRefresh size={16} />, onSelect: () => setRotating(k) });
    items.push({
      id: 'revoke',
      label: k.status === 'expiring' ? 'Revoke old secret now…' : 'Revoke…',
      icon: <IconTrash size={16} />,
      tone: 'danger',
      separated: items.length > 0,
      onSelect: () => setRevoking(k),
    });
    return items;
  };

  const columns: Column<ApiKey>[] = [
    {
      key: 'name',
      header: 'Key',
      primary: true,
      class: 'col-key',
      render: (k) => {
        const next = k.rotated_to ? byId.get(k.rotated_to) : undefined;
        return (
          <div class="key-cell">
            <span class="key-icon" aria-hidden="true">
              <IconKey size={16} />
            </span>
            <div class="key-text">
              <span class="key-name">{k.name}</span>
              <code class="key-prefix" title="The start of the secret, to recognise it">
                {maskedPrefix(k.prefix)}
              </code>
              <span class="key-meta">
                Created{' '}
                <time dateTime={k.created_at} title={formatFull(k.created_at)}>
                  {formatDate(k.created_at)}
                </time>{' '}
                by {me && k.created_by.id === me.id ? 'you' : k.created_by.name}
              </span>
              {k.rotated_to && (
                <span class="key-note">Replaced by {next ? <code>{maskedPrefix(next.prefix)}</code> : 'a newer key'}</span>
              )}
            </div>
          </div>
        );
      },
    },
    {
      key: 'scopes',
      header: 'Scopes',
      class: 'col-scopes',
      render: (k) => <ScopeChips apiKey={k} sections={sectionsList} />,
    },
    {
      key: 'owner',
      header: 'Owner',
      class: 'col-owner',
      render: (k) =>
        k.owner.type === 'workspace' ? (
          <div class="owner-cell">
            <span class="owner-tile" aria-hidden="true">
              <IconBuilding size={14} />
            </span>
            <span class="owner-text">
              <span class="owner-name">Workspace</span>
              <span class="owner-sub">Service key</span>
            </span>
          </div>
        ) : (
          <div class="owner-cell">
            <span class="avatar avatar-sm" aria-hidden="true">
              {initials(k.owner.user.name ?? '', k.owner.user.email ?? '')}
            </span>
            <span class="owner-text">
              <span class="owner-name">{k.owner.user.name || k.owner.user.email}</span>
              <span class="owner-sub">{me && k.owner.user.id === me.id ? 'Your personal key' : 'Personal key'}</span>
            </span>
          </div>
        ),
    },
    {
      key: 'used',
      header: 'Last used',
      class: 'col-used',
      render: (k) => (
        <span class="stack">
          {k.last_used_at ? (
            <time dateTime={k.last_used_at} title={formatFull(k.last_used_at)}>
              {formatRelative(k.last_used_at, now)}
            </time>
          ) : (
            <span class="muted">Never used</span>
          )}
          <AddressPopover apiKey={k} />
          {isStale(k, now) && (
            <span class="stack-sub is-warning">
              {k.last_used_at ? `Idle for ${STALE_DAYS}+ days` : `Unused since ${formatDate(k.created_at)}`}
            </span>
          )}
        </span>
      ),
    },
    {
      key: 'status',
      header: 'Status',
      class: 'col-status',
      render: (k) => <StatusCell apiKey={k} now={now} />,
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (k) =>
        canWrite && isLive(k) ? (
          <div class="row-actions">
            <Menu label={`Actions for ${k.name}`} items={itemsFor(k)} trigger={<IconMore size={18} />} />
          </div>
        ) : null,
    },
  ];

  const attention = soon.length + stale.length;

  return (
    <>
      <PageHeader
        title={section.title}
        description={`Keys let scripts, servers and other tools call the Atrium API for ${name}. Each key can do only what its scopes allow, and stops working when it expires or is revoked.`}
        actions={
          canWrite && (
            <Button variant="primary" icon={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create API key
            </Button>
          )
        }
      />

      {attention > 0 && (
        <Alert
          tone="warning"
          class="keys-attention"
          title={`${attention === 1 ? '1 key needs' : `${attention} keys need`} attention`}
        >
          <ul class="attention-list">
            {soon.map((k) => {
              const d = daysLeft(k, now) ?? 0;
              return (
                <li key={k.id}>
                  <span>
                    <strong>{k.name}</strong> expires in {daysText(d)} ({formatDate(k.expires_at!)}). Rotate it before then
                    so nothing breaks.
                  </span>
                  {canWrite && (
                    <Button size="sm" icon={<IconRefresh size={14} />} onClick={() => setRotating(k)}>
                      Rotate<span class="visually-hidden"> {k.name}</span>
                    </Button>
                  )}
                </li>
              );
            })}
            {stale.map((k) => (
              <li key={k.id}>
                <span>
                  <strong>{k.name}</strong>{' '}
                  {k.last_used_at
                    ? `hasn't been used since ${formatDate(k.last_used_at)}.`
                    : `has never been used since it was created on ${formatDate(k.created_at)}.`}{' '}
                  If nothing needs it, revoke it.
                </span>
                {canWrite && (
                  <Button size="sm" icon={<IconTrash size={14} />} onClick={() => setRevoking(k)}>
                    Revoke<span class="visually-hidden"> {k.name}</span>
                  </Button>
                )}
              </li>
            ))}
          </ul>
        </Alert>
      )}

      <Card flush class="keys-card">
        {keys && keys.length > 0 ? (
          <>
            {shown.length > 0 ? (
              <Table
                caption={`API keys of ${name}`}
                columns={columns}
                rows={shown}
                rowKey={(k) => k.id}
                rowClass={(k) => [k.id === fresh && 'is-new', !isLive(k) && 'is-inactive'].filter(Boolean).join(' ') || undefined}
              />
            ) : (
              <EmptyState icon={<IconKey size={20} />} title="No active keys">
                Every key of {name} has been revoked or has expired. Nothing can use the API until you create a new one.
              </EmptyState>
            )}
            <div class="keys-footer">
              <span class="keys-count">
                {live.length} active key{live.length === 1 ? '' : 's'}
                {loading && <Spinner size={14} label="Updating the list" />}
              </span>
              {inactive.length > 0 && (
                <button type="button" class="text-button" onClick={() => setShowInactive((s) => !s)}>
                  {showInactive
                    ? 'Hide revoked and expired keys'
                    : `Show ${inactive.length} revoked or expired key${inactive.length === 1 ? '' : 's'}`}
                </button>
              )}
            </div>
          </>
        ) : keys && !loading ? (
          <EmptyState
            icon={<IconKey size={20} />}
            title="No API keys yet"
            action={
              canWrite && (
                <Button variant="primary" icon={<IconPlus size={16} />} onClick={() => setCreating(true)}>
                  Create your first API key
                </Button>
              )
            }
          >
            <p>
              An API key lets a script, a server or a tool such as Zapier work with {name} through the Atrium API,
              without anyone's password. You choose what each key may do and when it expires, and you can rotate or
              revoke it at any time.
            </p>
          </EmptyState>
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the API keys" onRetry={refresh} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading API keys" />
          </div>
        )}
      </Card>

      <PolicyCard
        wsId={wsId}
        workspace={name}
        policy={policy}
        error={policyError}
        canWrite={canWrite}
        onRetry={() => setPolicyVersion((v) => v + 1)}
        onSaved={setPolicy}
      />

      <CreateKeyDialog
        open={creating}
        wsId={wsId}
        workspace={name}
        parentName={parent ? workspaceName(parent) : undefined}
        myName={me?.name || me?.email || 'you'}
        role={sections.role}
        agency={sections.agency}
        policy={policy}
        sections={scopeSections}
        loadError={policy ? scopesError : (policyError ?? scopesError)}
        onRetryLoad={() => {
          setPolicyVersion((v) => v + 1);
          setScopesVersion((v) => v + 1);
        }}
        onPolicyStale={() => setPolicyVersion((v) => v + 1)}
        onClose={() => setCreating(false)}
        onCreated={(r) => {
          setCreating(false);
          setFresh(r.key.id);
          setReveal({ result: r, kind: 'created' });
          refresh();
        }}
      />

      <SecretDialog
        result={reveal?.result ?? null}
        kind={reveal?.kind ?? 'created'}
        wsId={wsId}
        oldPrefix={reveal?.oldPrefix}
        overlapUntil={reveal?.overlapUntil}
        onClose={() => setReveal(null)}
      />

      <RotateDialog apiKey={rotating} busy={busy} onCancel={() => setRotating(null)} onRotate={(k, h) => void rotate(k, h)} />

      <ConfirmDialog
        open={!!revoking}
        title={revoking ? (revoking.status === 'expiring' ? `Stop the old secret of ${revoking.name} now?` : `Revoke ${revoking.name}?`) : ''}
        description={
          revoking && (
            <>
              <p>
                Requests that use <code>{maskedPrefix(revoking.prefix)}</code> are refused with 401 Unauthorized from
                now on. This can't be undone.
              </p>
              <p class="dialog-note">
                {revoking.status === 'expiring'
                  ? 'The new secret that replaced it keeps working.'
                  : 'Anything that still uses this key stops working. To replace it without downtime, rotate it instead.'}
              </p>
            </>
          )
        }
        confirmLabel={revoking?.status === 'expiring' ? 'Revoke old secret' : 'Revoke key'}
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
    </>
  );
}

/** The key's status badge and, under it, when it expires (or expired). */
function StatusCell({ apiKey: k, now }: { apiKey: ApiKey; now: number }) {
  const left = daysLeft(k, now);
  if (k.status === 'revoked')
    return (
      <span class="stack">
        <Badge tone="danger" dot>
          Revoked
        </Badge>
        <span class="stack-sub">Refused since it was revoked</span>
      </span>
    );
  if (k.status === 'expired')
    return (
      <span class="stack">
        <Badge tone="neutral" dot>
          Expired
        </Badge>
        <span class="stack-sub">
          {k.rotated_to ? 'Rotated out' : k.expires_at ? `On ${formatDate(k.expires_at)}` : 'No longer works'}
        </span>
      </span>
    );
  if (k.status === 'expiring')
    return (
      <span class="stack">
        <Badge tone="warning" dot>
          Expiring
        </Badge>
        <span class="stack-sub">Until its overlap ends</span>
      </span>
    );
  if (expiresSoon(k, now))
    return (
      <span class="stack">
        <Badge tone="warning" dot>
          Expires soon
        </Badge>
        <time class="stack-sub is-warning" dateTime={k.expires_at!} title={formatFull(k.expires_at!)}>
          In {daysText(left ?? 0)} · {formatDate(k.expires_at!)}
        </time>
      </span>
    );
  return (
    <span class="stack">
      <Badge tone="success" dot>
        Active
      </Badge>
      {k.expires_at ? (
        <time class="stack-sub" dateTime={k.expires_at} title={formatFull(k.expires_at)}>
          Expires {formatDate(k.expires_at)}
        </time>
      ) : (
        <span class="stack-sub">Never expires</span>
      )}
    </span>
  );
}

/** A key's scopes as chips (one per section; "write" includes read), the first few and "+N more". */
function ScopeChips({ apiKey, sections }: { apiKey: ApiKey; sections: ScopeSection[] }) {
  const [expanded, setExpanded] = useState(false);
  const grants = scopeGrants(apiKey.scopes);
  const all = sections.length > 0 && sections.every((s) => grants.some((g) => g.section === s.id));
  const visible = expanded ? grants : grants.slice(0, VISIBLE_SCOPES);
  const hidden = grants.length - visible.length;
  return (
    <div class="scope-chips">
      {all && !expanded ? (
        <span class="scope-chip is-all" title={grants.map((g) => `${g.section}:${g.access}`).join(', ')}>
          Every section
          <span class="scope-chip-access">
            {grants.every((g) => g.access === 'write') ? 'write' : grants.some((g) => g.access === 'write') ? 'mixed' : 'read'}
          </span>
        </span>
      ) : (
        visible.map((g) => (
          <span
            key={g.section}
            class={g.access === 'write' ? 'scope-chip is-write' : 'scope-chip'}
            title={`${sectionTitle(sections, g.section)}: ${g.access === 'write' ? 'read and change' : 'read only'} (${g.section}:${g.access})`}
          >
            {chipTitle(sections, g.section)}
            <span class="scope-chip-access">{g.access}</span>
          </span>
        ))
      )}
      {(hidden > 0 || expanded || all) && grants.length > VISIBLE_SCOPES && (
        <button type="button" class="scope-more" aria-expanded={expanded} onClick={() => setExpanded((e) => !e)}>
          {expanded ? (
            <>
              Show less<span class="visually-hidden"> of the scopes of {apiKey.name}</span>
            </>
          ) : all ? (
            <>
              {grants.length} scopes<span class="visually-hidden"> of {apiKey.name}: show them</span>
            </>
          ) : (
            <>
              +{hidden} more<span class="visually-hidden"> scopes of {apiKey.name}</span>
            </>
          )}
        </button>
      )}
    </div>
  );
}

/** Rotate: a new secret for the same key settings; the old one keeps working for the chosen overlap. */
function RotateDialog({
  apiKey,
  busy,
  onCancel,
  onRotate,
}: {
  apiKey: ApiKey | null;
  busy: boolean;
  onCancel: () => void;
  onRotate: (k: ApiKey, overlapHours: number) => void;
}) {
  const [overlap, setOverlap] = useState('24');
  useEffect(() => {
    if (apiKey) setOverlap('24');
  }, [apiKey?.id]);
  const hours = Number(overlap);
  const until = new Date(Date.now() + hours * 3_600_000).toISOString();
  const lifetime =
    apiKey?.expires_at != null
      ? Math.round((Date.parse(apiKey.expires_at) - Date.parse(apiKey.created_at)) / 86_400_000)
      : null;
  return (
    <Dialog
      open={!!apiKey}
      onClose={() => !busy && onCancel()}
      role="alertdialog"
      dismissable={!busy}
      title={apiKey ? `Rotate ${apiKey.name}?` : ''}
      description={
        <>
          <p>
            You get a new secret for this key, with the same name, scopes, owner and IP allowlist
            {lifetime !== null ? `, valid for ${lifetime} day${lifetime === 1 ? '' : 's'} from now` : ', without an expiry'}.
          </p>
          <p class="dialog-note">
            Keep the current secret working for a while so you can deploy the new one without downtime. After that it
            stops working for good.
          </p>
        </>
      }
      footer={
        <>
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" icon={<IconRefresh size={16} />} loading={busy} onClick={() => apiKey && onRotate(apiKey, hours)}>
            Rotate key
          </Button>
        </>
      }
    >
      <div class="dialog-form">
        <Select
          name="overlap_hours"
          label="Keep the current secret working for"
          value={overlap}
          onValue={setOverlap}
          options={OVERLAPS}
          hint={
            hours === 0 ? (
              <>
                The current secret (<code>{apiKey ? maskedPrefix(apiKey.prefix) : ''}</code>) stops working as soon as you
                rotate. Anything still using it fails until you deploy the new one.
              </>
            ) : (
              <>
                Both secrets work until <strong>{formatDateTime(until)}</strong>. The old one then stops working for good.
              </>
            )
          }
        />
      </div>
    </Dialog>
  );
}
