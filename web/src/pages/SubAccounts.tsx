// Sub-Accounts (root workspaces only): the agency's child workspaces. Search, filter by status,
// sort, page through; create; and per row rename, suspend (with a reason), reactivate, schedule
// deletion (restorable for 7 days) and restore. Opening one switches the workspace context.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, workspacesApi, type SubAccount } from '../api';
import { formatDateTime, formatRelative } from '../lib/format';
import { timezoneGroups } from '../lib/options';
import { Link, navigate, useLocation } from '../router';
import { statusBadge } from '../shell/WorkspaceSwitcher';
import { WorkspaceTile } from '../shell/WorkspaceTile';
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  IconEdit,
  IconLayers,
  IconMore,
  IconPause,
  IconPlay,
  IconPlus,
  IconTrash,
  IconUndo,
  Menu,
  PageHeader,
  Pagination,
  SearchInput,
  Select,
  Spinner,
  Table,
  TextArea,
  TextField,
  useForm,
  useToast,
  type Column,
  type MenuItem,
} from '../ui';
import { useWorkspaces, workspaceName, workspacePath } from '../workspace';
import { useTitle } from './title';
import type { WorkspacePageProps } from './WorkspaceRoutes';

const PAGE_SIZE = 20;
const DELETION_DAYS = 7;

const SORTS = [
  { value: 'name', label: 'Name (A–Z)' },
  { value: '-name', label: 'Name (Z–A)' },
  { value: '-created_at', label: 'Newest first' },
  { value: 'created_at', label: 'Oldest first' },
  { value: 'status', label: 'Status' },
];
const STATUSES = [
  { value: 'active', label: 'Active' },
  { value: 'suspended', label: 'Suspended' },
  { value: 'pending_deletion', label: 'Pending deletion' },
];

type Action = { kind: 'rename' | 'suspend' | 'reactivate' | 'delete' | 'billing'; sub: SubAccount } | null;

/** The second line under a sub-account's name, in full (shown on hover when it is truncated). */
function subMeta(s: SubAccount): string {
  return [s.display_name && s.display_name !== s.name ? `customers see “${s.display_name}”` : '', s.slug, s.timezone?.replace(/_/g, ' ') ?? '']
    .filter(Boolean)
    .join(' · ');
}

function problemText(e: unknown): string | undefined {
  return e instanceof ApiError ? (e.errors[0]?.message ?? e.detail ?? e.title) : undefined;
}

export function SubAccounts({ wsId, section, workspace }: WorkspacePageProps) {
  const rootName = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${rootName}` : section.title);
  const toast = useToast();
  const { search, path } = useLocation();
  const { reloadWorkspaces, remember } = useWorkspaces();
  const canWrite = section.access === 'write';

  const [query, setQuery] = useState(search.get('q') ?? '');
  const [q, setQ] = useState(query);
  const [status, setStatus] = useState(search.get('status') ?? '');
  const [sort, setSort] = useState(search.get('sort') ?? 'name');
  const [cursors, setCursors] = useState<string[]>(['']);
  const [data, setData] = useState<{ items: SubAccount[]; total: number; next_cursor: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const [creating, setCreating] = useState(search.get('create') === '1');
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [fresh, setFresh] = useState<string | null>(null);
  // The row whose menu was used last stays marked, so it is easy to find again after a dialog.
  const [acted, setActed] = useState<string | null>(null);

  // Debounce the search box.
  useEffect(() => {
    const t = window.setTimeout(() => setQ(query.trim()), 250);
    return () => window.clearTimeout(t);
  }, [query]);

  // Filters change: back to the first page, and into the URL (so a reload or a shared link keeps them).
  useEffect(() => {
    setCursors(['']);
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (status) p.set('status', status);
    if (sort !== 'name') p.set('sort', sort);
    const s = p.toString();
    navigate(path + (s ? `?${s}` : ''), { replace: true });
  }, [q, status, sort]);

  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    workspacesApi
      .subaccounts(wsId, { q, status, sort, limit: PAGE_SIZE, cursor: cursor || undefined }, ctl.signal)
      .then((r) => {
        setData(r);
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, q, status, sort, cursor, version]);

  const refresh = () => setVersion((v) => v + 1);
  const replaceRow = (s: SubAccount) =>
    setData((d) => d && { ...d, items: d.items.map((x) => (x.id === s.id ? s : x)) });

  const open = (s: SubAccount) => {
    remember(s.id);
    navigate(workspacePath(s.id, 'workspace'));
  };

  const move = async (
    kind: 'suspend' | 'reactivate' | 'delete' | 'restore',
    sub: SubAccount,
    reason?: string,
  ): Promise<boolean> => {
    setBusy(true);
    try {
      const next =
        kind === 'suspend'
          ? await workspacesApi.suspend(wsId, sub.id, reason ?? '')
          : kind === 'reactivate'
            ? await workspacesApi.reactivate(wsId, sub.id)
            : kind === 'delete'
              ? await workspacesApi.scheduleDeletion(wsId, sub.id)
              : await workspacesApi.restore(wsId, sub.id);
      replaceRow(next);
      void reloadWorkspaces();
      const n = workspaceName(next);
      toast(
        kind === 'suspend'
          ? { title: `${n} is suspended`, description: 'Its members are locked out until you reactivate it.' }
          : kind === 'reactivate'
            ? { title: `${n} is active again`, description: 'Its members can use it again.' }
            : kind === 'delete'
              ? {
                  title: `${n} is scheduled for deletion`,
                  description: next.deletion_due_at
                    ? `It will be deleted on ${formatDateTime(next.deletion_due_at)}. You can restore it until then.`
                    : undefined,
                }
              : { title: `${n} is restored`, description: 'It is active again; nothing was deleted.' },
      );
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        toast({ tone: 'danger', title: 'Its status changed meanwhile', description: 'The list has been refreshed; try again.' });
        refresh();
        return true;
      }
      if (e instanceof ApiError && e.status === 404) {
        toast({ tone: 'danger', title: 'That sub-account no longer exists' });
        refresh();
        return true;
      }
      toast({ tone: 'danger', title: "Couldn't change the sub-account", description: problemText(e) });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const filtered = !!(q || status);
  const page = cursors.length - 1;
  const from = data && data.items.length ? page * PAGE_SIZE + 1 : 0;
  const to = data ? page * PAGE_SIZE + data.items.length : 0;

  const itemsFor = (s: SubAccount): MenuItem[] => {
    const items: MenuItem[] = [];
    const mark = (run: () => void) => () => {
      setActed(s.id);
      run();
    };
    if (s.status === 'pending_deletion')
      items.push({ id: 'restore', label: 'Restore', icon: <IconUndo size={16} />, onSelect: mark(() => void move('restore', s)) });
    items.push({ id: 'rename', label: 'Rename…', icon: <IconEdit size={16} />, onSelect: mark(() => setAction({ kind: 'rename', sub: s })) });
    if (s.status === 'active')
      items.push({ id: 'suspend', label: 'Suspend…', icon: <IconPause size={16} />, onSelect: mark(() => setAction({ kind: 'suspend', sub: s })) });
    if (s.status === 'suspended')
      items.push({ id: 'reactivate', label: 'Reactivate…', icon: <IconPlay size={16} />, onSelect: mark(() => setAction({ kind: 'reactivate', sub: s })) });
    if (s.status !== 'pending_deletion')
      items.push({
        id: 'billing',
        label: s.billing_mode === 'own' ? 'Bill to this agency…' : 'Give it its own subscription…',
        icon: <IconLayers size={16} />,
        onSelect: mark(() => setAction({ kind: 'billing', sub: s })),
      });
    if (s.status !== 'pending_deletion')
      items.push({
        id: 'schedule-deletion',
        label: 'Schedule deletion…',
        icon: <IconTrash size={16} />,
        tone: 'danger',
        separated: true,
        onSelect: mark(() => setAction({ kind: 'delete', sub: s })),
      });
    return items;
  };

  const columns: Column<SubAccount>[] = [
    {
      key: 'name',
      header: 'Sub-account',
      primary: true,
      class: 'col-sub',
      render: (s) => (
        <div class="sub-name">
          <WorkspaceTile workspace={s} />
          <div class="sub-name-text">
            <Link
              href={workspacePath(s.id, 'workspace')}
              class="sub-link"
              onClick={() => remember(s.id)}
              data-sub-id={s.id}
              title={workspaceName(s)}
            >
              {workspaceName(s)}
            </Link>
            <span class="sub-meta" title={subMeta(s)}>
              {s.display_name && s.display_name !== s.name ? `customers see “${s.display_name}” · ` : ''}
              <span class="mono">{s.slug}</span>
              {s.timezone ? ` · ${s.timezone.replace(/_/g, ' ')}` : ''}
              <span class="sub-meta-members"> · {s.member_count === 1 ? '1 member' : `${s.member_count} members`}</span>
            </span>
          </div>
        </div>
      ),
    },
    {
      key: 'status',
      header: 'Status',
      class: 'col-status',
      render: (s) => (
        <div class="sub-status">
          {statusBadge(s.status) ?? (
            <Badge tone="success" dot>
              Active
            </Badge>
          )}
          {s.status === 'suspended' && s.status_reason && (
            <span class="sub-status-note" title={s.status_reason}>
              {s.status_reason}
            </span>
          )}
          {s.status === 'pending_deletion' && s.deletion_due_at && (
            <span class="sub-status-note">
              Deletes <time dateTime={s.deletion_due_at}>{formatDateTime(s.deletion_due_at)}</time>, {formatRelative(s.deletion_due_at)}
            </span>
          )}
        </div>
      ),
    },
    { key: 'members', header: 'Members', class: 'nowrap col-members align-num', render: (s) => String(s.member_count) },
    {
      key: 'billing',
      header: 'Billing',
      class: 'nowrap col-billing',
      render: (s) =>
        s.billing_mode === 'own' ? <Badge tone="neutral">Own subscription</Badge> : <Badge tone="accent">Agency pays</Badge>,
    },
    {
      key: 'created',
      header: 'Created',
      class: 'nowrap col-created',
      render: (s) => (
        <time dateTime={s.created_at} title={formatDateTime(s.created_at)}>
          {formatRelative(s.created_at)}
        </time>
      ),
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      class: 'col-actions',
      render: (s) => (
        <div class="row-actions">
          {s.status === 'pending_deletion' && canWrite ? (
            <Button size="sm" icon={<IconUndo size={14} />} onClick={() => void move('restore', s)} disabled={busy}>
              Restore
              <span class="visually-hidden"> {workspaceName(s)}</span>
            </Button>
          ) : (
            <Button size="sm" onClick={() => open(s)}>
              Open
              <span class="visually-hidden"> {workspaceName(s)}</span>
            </Button>
          )}
          {canWrite && <Menu label={`More actions for ${workspaceName(s)}`} items={itemsFor(s)} trigger={<IconMore size={18} />} />}
        </div>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title={section.title}
        description={`Separate workspaces that ${rootName} manages, one per client or location. Their data stays apart; agency owners and admins can act in each of them.`}
        actions={
          canWrite && (
            <Button variant="primary" icon={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create sub-account
            </Button>
          )
        }
      />
      <Card flush class="subs-card">
        <div class="toolbar" role="search" aria-label="Filter sub-accounts" hidden={!!data && data.total === 0 && !filtered && !query}>
          <SearchInput
            label="Search sub-accounts"
            placeholder="Search by name or slug…"
            value={query}
            onValue={setQuery}
            class="toolbar-search"
          />
          <Select
            label="Status"
            hideLabel
            name="status"
            size="sm"
            value={status}
            onValue={setStatus}
            placeholder="All statuses"
            options={STATUSES}
            class="toolbar-select"
          />
          <Select
            label="Sort by"
            hideLabel
            name="sort"
            size="sm"
            value={sort}
            onValue={setSort}
            options={SORTS}
            class="toolbar-select"
          />
          {loading && data && (
            <span class="toolbar-spinner">
              <Spinner size={16} label="Updating the list" />
            </span>
          )}
        </div>
        {data && data.items.length > 0 ? (
          <>
            <Table
              caption={`Sub-accounts of ${rootName}`}
              columns={columns}
              rows={data.items}
              rowKey={(s) => s.id}
              rowClass={(s) => [s.id === fresh && 'is-new', s.id === acted && 'is-focused-row', s.status !== 'active' && `is-${s.status}`].filter(Boolean).join(' ') || undefined}
            />
            <div class="card-pagination">
              <Pagination
                from={from}
                to={to}
                total={data.total}
                noun={data.total === 1 ? 'sub-account' : 'sub-accounts'}
                hasPrevious={cursors.length > 1}
                hasNext={!!data.next_cursor}
                busy={loading}
                onPrevious={() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c))}
                onNext={() => data.next_cursor && setCursors((c) => [...c, data.next_cursor!])}
              />
            </div>
          </>
        ) : data && !loading ? (
          filtered ? (
            <EmptyState
              icon={<IconLayers size={20} />}
              title="No sub-accounts match"
              action={
                <Button
                  size="sm"
                  onClick={() => {
                    setQuery('');
                    setQ('');
                    setStatus('');
                  }}
                >
                  Clear filters
                </Button>
              }
            >
              Nothing {q ? <>matches “{q}”</> : 'here'}
              {status ? ` with the status “${STATUSES.find((s) => s.value === status)?.label ?? status}”` : ''}.
            </EmptyState>
          ) : (
            <EmptyState
              icon={<IconLayers size={20} />}
              title="No sub-accounts yet"
              action={
                canWrite && (
                  <Button variant="primary" icon={<IconPlus size={16} />} onClick={() => setCreating(true)}>
                    Create your first sub-account
                  </Button>
                )
              }
            >
              A sub-account is a separate workspace for a client or a location. Its data stays apart, and you manage
              every one of them from here.
            </EmptyState>
          )
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the sub-accounts" onRetry={refresh} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading sub-accounts" />
          </div>
        )}
      </Card>

      <CreateDialog
        open={creating}
        wsId={wsId}
        rootName={rootName}
        onClose={() => setCreating(false)}
        onCreated={(s) => {
          setCreating(false);
          setFresh(s.id);
          refresh();
          void reloadWorkspaces();
          toast({ title: `${workspaceName(s)} is ready`, description: 'Open it from the list to set it up.' });
        }}
      />
      <RenameDialog
        sub={action?.kind === 'rename' ? action.sub : null}
        wsId={wsId}
        onClose={() => setAction(null)}
        onRenamed={(s) => {
          setAction(null);
          replaceRow(s);
          void reloadWorkspaces();
          toast({ title: 'Sub-account renamed', description: `It is now called ${workspaceName(s)}.` });
        }}
      />
      <SuspendDialog
        sub={action?.kind === 'suspend' ? action.sub : null}
        onClose={() => setAction(null)}
        onSuspend={async (reason) => {
          if (action && (await move('suspend', action.sub, reason))) setAction(null);
        }}
        busy={busy}
      />
      <ConfirmDialog
        open={action?.kind === 'billing'}
        title={
          action
            ? action.sub.billing_mode === 'own'
              ? `Bill ${workspaceName(action.sub)} to this agency?`
              : `Give ${workspaceName(action.sub)} its own subscription?`
            : ''
        }
        description={
          action?.sub.billing_mode === 'own'
            ? 'Its own subscription ends now (a final invoice bills any usage), and its members take seats of this workspace’s subscription from now on.'
            : 'It starts its own subscription (a trial of the default plan when it never had one), invoiced to its own billing details; its members stop taking this workspace’s seats.'
        }
        confirmLabel={action?.sub.billing_mode === 'own' ? 'Bill to the agency' : 'Start its own subscription'}
        tone="primary"
        busy={busy}
        onConfirm={async () => {
          if (!action) return;
          const s = action.sub;
          const mode = s.billing_mode === 'own' ? 'parent' : 'own';
          setBusy(true);
          try {
            await workspacesApi.setBillingMode(wsId, s.id, mode);
            replaceRow({ ...s, billing_mode: mode });
            setAction(null);
            toast({
              title: mode === 'own' ? `${workspaceName(s)} has its own subscription` : `${workspaceName(s)} is billed to this agency`,
            });
          } catch (e) {
            toast({ tone: 'danger', title: "Couldn't change who pays", description: problemText(e) });
          } finally {
            setBusy(false);
          }
        }}
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={action?.kind === 'reactivate'}
        title={action ? `Reactivate ${workspaceName(action.sub)}?` : ''}
        description="Its members get their access back right away."
        confirmLabel="Reactivate"
        tone="primary"
        busy={busy}
        onConfirm={async () => {
          if (action && (await move('reactivate', action.sub))) setAction(null);
        }}
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={action?.kind === 'delete'}
        title={action ? `Schedule ${workspaceName(action.sub)} for deletion?` : ''}
        description={
          <>
            <p>
              Its members lose access now. It will be deleted for good on{' '}
              <strong>{formatDateTime(new Date(Date.now() + DELETION_DAYS * 86400_000).toISOString())}</strong>, in{' '}
              {DELETION_DAYS} days.
            </p>
            <p class="dialog-note">Until then you can restore it from this list, with everything intact.</p>
          </>
        }
        confirmLabel="Schedule deletion"
        busy={busy}
        onConfirm={async () => {
          if (action && (await move('delete', action.sub))) setAction(null);
        }}
        onCancel={() => setAction(null)}
      />
    </>
  );
}

// ---- Dialogs --------------------------------------------------------------------------------------

function CreateDialog({
  open,
  wsId,
  rootName,
  onClose,
  onCreated,
}: {
  open: boolean;
  wsId: string;
  rootName: string;
  onClose: () => void;
  onCreated: (s: SubAccount) => void;
}) {
  const first = useRef<HTMLInputElement>(null);
  const form = useForm({
    initial: { name: '', display_name: '', slug: '', timezone: '' },
    validate: (v) => ({
      name: v.name.trim() ? undefined : 'Give the sub-account a name.',
      slug: v.slug.trim() && !/^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$/.test(v.slug.trim())
        ? 'Use 3–48 lowercase letters, digits and dashes, not starting or ending with a dash.'
        : undefined,
    }),
    messages: { slug: { taken: 'Another workspace already uses this slug.' } },
    onSubmit: async (v) => {
      const body: { name: string; display_name?: string; slug?: string; timezone?: string } = { name: v.name.trim() };
      if (v.display_name.trim()) body.display_name = v.display_name.trim();
      if (v.slug.trim()) body.slug = v.slug.trim();
      if (v.timezone) body.timezone = v.timezone;
      const s = await workspacesApi.createSubaccount(wsId, body);
      form.reset();
      onCreated(s);
    },
  });
  useEffect(() => {
    if (open) form.reset();
  }, [open]);
  const close = () => {
    if (!form.submitting) onClose();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Create a sub-account"
      description={`A new, separate workspace managed by ${rootName}. You can fill in its business details afterwards.`}
      initialFocus={first}
      dismissable={!form.submitting}
      footer={
        <>
          <Button onClick={close} disabled={form.submitting}>
            Cancel
          </Button>
          <Button type="submit" form="create-subaccount" variant="primary" loading={form.submitting}>
            Create sub-account
          </Button>
        </>
      }
    >
      <form id="create-subaccount" class="dialog-form" onSubmit={form.onSubmit} noValidate>
        {form.formError && (
          <Alert tone="danger" title={form.formError.title}>
            {form.formError.detail ?? 'Please try again.'}
          </Alert>
        )}
        <TextField ref={first} {...form.field('name')} label="Name" required placeholder="e.g. Acme Dental Brooklyn" />
        <TextField
          {...form.field('display_name')}
          label="Display name"
          optional
          hint="Shown to the client, if different from the name."
        />
        <TextField
          {...form.field('slug')}
          label="Slug"
          optional
          spellcheck={false}
          autoCapitalize="off"
          hint="Leave blank and we'll make one from the name."
        />
        <Select
          {...form.field('timezone')}
          label="Time zone"
          placeholder={`Same as ${rootName}`}
          groups={timezoneGroups()}
        />
      </form>
    </Dialog>
  );
}

function RenameDialog({
  sub,
  wsId,
  onClose,
  onRenamed,
}: {
  sub: SubAccount | null;
  wsId: string;
  onClose: () => void;
  onRenamed: (s: SubAccount) => void;
}) {
  const first = useRef<HTMLInputElement>(null);
  const form = useForm({
    initial: { name: '', display_name: '' },
    validate: (v) => ({ name: v.name.trim() ? undefined : 'Enter a name.' }),
    onSubmit: async (v) => {
      if (!sub) return;
      const body: { name?: string; display_name?: string | null } = {};
      if (v.name.trim() !== sub.name) body.name = v.name.trim();
      if (v.display_name.trim() !== (sub.display_name ?? '')) body.display_name = v.display_name.trim() || null;
      if (Object.keys(body).length === 0) {
        onClose();
        return;
      }
      onRenamed(await workspacesApi.renameSubaccount(wsId, sub.id, body));
    },
  });
  useEffect(() => {
    if (sub) form.reset({ name: sub.name, display_name: sub.display_name ?? '' });
  }, [sub?.id]);
  const close = () => {
    if (!form.submitting) onClose();
  };
  return (
    <Dialog
      open={!!sub}
      onClose={close}
      title={sub ? `Rename ${workspaceName(sub)}` : ''}
      initialFocus={first}
      dismissable={!form.submitting}
      footer={
        <>
          <Button onClick={close} disabled={form.submitting}>
            Cancel
          </Button>
          <Button type="submit" form="rename-subaccount" variant="primary" loading={form.submitting}>
            Save name
          </Button>
        </>
      }
    >
      <form id="rename-subaccount" class="dialog-form" onSubmit={form.onSubmit} noValidate>
        {form.formError && (
          <Alert tone="danger" title={form.formError.title}>
            {form.formError.detail ?? 'Please try again.'}
          </Alert>
        )}
        <TextField ref={first} {...form.field('name')} label="Name" required />
        <TextField {...form.field('display_name')} label="Display name" optional hint="Leave blank to use the name." />
      </form>
    </Dialog>
  );
}

function SuspendDialog({
  sub,
  onClose,
  onSuspend,
  busy,
}: {
  sub: SubAccount | null;
  onClose: () => void;
  onSuspend: (reason: string) => Promise<void>;
  busy: boolean;
}) {
  const first = useRef<HTMLTextAreaElement>(null);
  const form = useForm({
    initial: { reason: '' },
    validate: (v) => ({
      reason: !v.reason.trim()
        ? 'Say why, so its members know what to do.'
        : [...v.reason.trim()].length > 200
          ? 'Keep the reason to 200 characters or fewer.'
          : undefined,
    }),
    onSubmit: async (v) => onSuspend(v.reason.trim()),
  });
  useEffect(() => {
    if (sub) form.reset({ reason: '' });
  }, [sub?.id]);
  const close = () => {
    if (!busy) onClose();
  };
  return (
    <Dialog
      open={!!sub}
      onClose={close}
      role="alertdialog"
      title={sub ? `Suspend ${workspaceName(sub)}?` : ''}
      description="Its members are locked out and see the reason below until you reactivate it. You and other agency admins keep access. Nothing is deleted."
      initialFocus={first}
      dismissable={!busy}
      footer={
        <>
          <Button onClick={close} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" form="suspend-subaccount" variant="danger" loading={busy}>
            Suspend sub-account
          </Button>
        </>
      }
    >
      <form id="suspend-subaccount" class="dialog-form" onSubmit={form.onSubmit} noValidate>
        <TextArea
          ref={first}
          {...form.field('reason')}
          label="Reason shown to its members"
          required
          rows={3}
          maxLength={200}
          counter
          placeholder="e.g. Invoice 1042 is 30 days overdue. Contact billing@acme.test."
        />
      </form>
    </Dialog>
  );
}
