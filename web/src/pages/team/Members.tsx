// The Members tab: search, role and status filters, sort (header buttons or the select on a phone),
// pages; each row's actions (change role, make owner, view activity, end sessions, deactivate or
// reactivate, remove, and "Leave" on your own row) with the confirmations that explain what happens.
import { useEffect, useId, useState } from 'preact/hooks';
import type { Role } from '../../api';
import { ROLE_INFO, ROLE_RANK, teamApi, type Member, type OwnershipTransfer } from '../../api-team';
import { formatDate, formatFull, formatRelative } from '../../lib/format';
import { navigate, useLocation } from '../../router';
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  IconActivity,
  IconCrown,
  IconDoor,
  IconInfo,
  IconLogOut,
  IconMore,
  IconPause,
  IconPlay,
  IconShield,
  IconUserMinus,
  IconUserPlus,
  IconUsers,
  Menu,
  Pagination,
  SearchInput,
  Select,
  Spinner,
  Table,
  useToast,
  type Column,
  type MenuItem,
} from '../../ui';
import { MemberActivity } from './MemberActivity';
import { firstName, isProblem, mayManage, MemberAvatar, MemberStatus, plural, refusalText, RoleBadge, whyNotGrant } from './shared';

const PAGE_SIZE = 25;

const SORTS = [
  { value: 'name', label: 'Name (A–Z)' },
  { value: '-name', label: 'Name (Z–A)' },
  { value: 'role', label: 'Role' },
  { value: '-joined_at', label: 'Newest members' },
  { value: 'joined_at', label: 'Longest-standing' },
  { value: '-last_active_at', label: 'Recently active' },
  { value: 'last_active_at', label: 'Least recently active' },
];
const ROLES = [
  { value: 'owner', label: 'Owners' },
  { value: 'admin', label: 'Admins' },
  { value: 'member', label: 'Members' },
];
const STATUSES = [
  { value: 'active', label: 'Active' },
  { value: 'deactivated', label: 'Deactivated' },
];

type Action =
  | { kind: 'role' | 'deactivate' | 'remove' | 'sessions' | 'transfer' | 'activity'; member: Member }
  | null;

export interface MembersProps {
  wsId: string;
  workspace: string;
  meId: string;
  myRole: Role;
  canWrite: boolean;
  agency: boolean;
  /** Active owners (for "the only owner" checks). */
  owners: Member[] | null;
  transfer: OwnershipTransfer | null;
  version: number;
  /** Something changed: refresh the seats, counts and the other tab. */
  onChanged: () => void;
  onLeave: () => void;
  onInvite?: () => void;
}

export function Members({ wsId, workspace, meId, myRole, canWrite, agency, owners, transfer, version, onChanged, onLeave, onInvite }: MembersProps) {
  const toast = useToast();
  const { search, path } = useLocation();
  const [query, setQuery] = useState(search.get('q') ?? '');
  const [q, setQ] = useState(query);
  const [role, setRole] = useState(search.get('role') ?? '');
  const [status, setStatus] = useState(search.get('status') ?? '');
  const [sort, setSort] = useState(search.get('sort') ?? 'name');
  const [cursors, setCursors] = useState<string[]>(['']);
  const [data, setData] = useState<{ items: Member[]; total: number; next_cursor: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [local, setLocal] = useState(0);
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [names, setNames] = useState<Map<string, string>>(new Map());

  useEffect(() => {
    const t = window.setTimeout(() => setQ(query.trim()), 250);
    return () => window.clearTimeout(t);
  }, [query]);

  useEffect(() => {
    setCursors(['']);
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (role) p.set('role', role);
    if (status) p.set('status', status);
    if (sort !== 'name') p.set('sort', sort);
    const s = p.toString();
    navigate(path + (s ? `?${s}` : ''), { replace: true });
  }, [q, role, status, sort]);

  const cursor = cursors[cursors.length - 1];
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    teamApi
      .members(wsId, { q, role, status, sort, limit: PAGE_SIZE, cursor: cursor || undefined }, ctl.signal)
      .then((r) => {
        setData(r);
        setError(null);
        setNames((m) => {
          const copy = new Map(m);
          for (const x of r.items) copy.set(x.user.id, x.user.name || x.user.email);
          return copy;
        });
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, q, role, status, sort, cursor, version, local]);

  const refresh = () => {
    setLocal((v) => v + 1);
    onChanged();
  };
  const replaceRow = (m: Member) => setData((d) => d && { ...d, items: d.items.map((x) => (x.id === m.id ? m : x)) });

  const activeOwners = owners?.filter((o) => o.status === 'active') ?? null;
  const onlyOwner = (m: Member) =>
    m.role === 'owner' && m.status === 'active' && !!activeOwners && activeOwners.length === 1 && activeOwners[0].id === m.id;

  /** Runs a row action; on a refusal says why (toast) and refreshes. */
  const run = async (what: () => Promise<unknown>, ok: { title: string; description?: string }) => {
    setBusy(true);
    try {
      await what();
      toast(ok);
      setAction(null);
      refresh();
    } catch (e) {
      const r = refusalText(e, { workspace });
      toast({ tone: 'danger', title: r.title, description: r.detail });
      setAction(null);
      if (isProblem(e, 'last-owner') || (e instanceof Error && 'status' in e && (e as { status: number }).status === 404)) refresh();
    } finally {
      setBusy(false);
    }
  };

  const reactivate = (m: Member) =>
    run(() => teamApi.reactivate(wsId, m.id), {
      title: `${m.user.name || m.user.email} is active again`,
      description: `They can use ${workspace} again and take a seat.`,
    });

  const itemsFor = (m: Member): MenuItem[] => {
    const self = m.user.id === meId;
    const manage = canWrite && mayManage(m.role, myRole);
    const items: MenuItem[] = [
      { id: 'activity', label: 'View activity', icon: <IconActivity size={16} />, onSelect: () => setAction({ kind: 'activity', member: m }) },
    ];
    if (manage && m.status === 'active')
      items.push({ id: 'role', label: 'Change role…', icon: <IconShield size={16} />, onSelect: () => setAction({ kind: 'role', member: m }) });
    if (myRole === 'owner' && !agency && canWrite && !self && m.status === 'active' && m.role !== 'owner' && !transfer)
      items.push({ id: 'transfer', label: 'Make owner…', icon: <IconCrown size={16} />, onSelect: () => setAction({ kind: 'transfer', member: m }) });
    if (manage && !self && m.status === 'active' && m.usage.open_sessions > 0)
      items.push({ id: 'sessions', label: 'End sessions…', icon: <IconLogOut size={16} />, onSelect: () => setAction({ kind: 'sessions', member: m }) });
    if (manage && !self && m.status === 'active')
      items.push({ id: 'deactivate', label: 'Deactivate…', icon: <IconPause size={16} />, onSelect: () => setAction({ kind: 'deactivate', member: m }) });
    if (manage && !self && m.status === 'deactivated')
      items.push({ id: 'reactivate', label: 'Reactivate', icon: <IconPlay size={16} />, onSelect: () => void reactivate(m) });
    if (manage && !self)
      items.push({
        id: 'remove',
        label: 'Remove from workspace…',
        icon: <IconUserMinus size={16} />,
        tone: 'danger',
        separated: true,
        onSelect: () => setAction({ kind: 'remove', member: m }),
      });
    if (self && !agency)
      items.push({ id: 'leave', label: 'Leave workspace…', icon: <IconDoor size={16} />, tone: 'danger', separated: true, onSelect: onLeave });
    return items;
  };

  const columns: Column<Member>[] = [
    {
      key: 'member',
      header: 'Member',
      primary: true,
      class: 'col-member',
      sort: { asc: 'name', desc: '-name' },
      render: (m) => (
        <div class="member-cell">
          <MemberAvatar user={m.user} />
          <div class="member-text">
            <span class="member-name">
              {m.user.name || m.user.email}
              {m.user.id === meId && <Badge tone="neutral">You</Badge>}
            </span>
            <span class="member-email">{m.user.email}</span>
          </div>
        </div>
      ),
    },
    {
      key: 'role',
      header: 'Role',
      sort: { asc: 'role', desc: 'role' },
      render: (m) => (
        <span class="member-role">
          <RoleBadge role={m.role} />
          {transfer && transfer.to.id === m.user.id && <span class="member-note">Ownership offered</span>}
        </span>
      ),
    },
    { key: 'status', header: 'Status', render: (m) => <MemberStatus member={m} /> },
    {
      key: 'joined',
      header: 'Joined',
      class: 'nowrap',
      sort: { asc: 'joined_at', desc: '-joined_at' },
      render: (m) => (
        <time dateTime={m.joined_at} title={formatFull(m.joined_at)}>
          {formatDate(m.joined_at)}
        </time>
      ),
    },
    {
      key: 'active',
      header: 'Last active',
      class: 'nowrap',
      sort: { asc: 'last_active_at', desc: '-last_active_at' },
      render: (m) =>
        m.last_active_at ? (
          <time dateTime={m.last_active_at} title={formatFull(m.last_active_at)}>
            {formatRelative(m.last_active_at)}
          </time>
        ) : (
          <span class="muted">Not yet</span>
        ),
    },
    {
      key: 'usage',
      header: 'Usage (30 days)',
      class: 'nowrap',
      render: (m) => (
        <span class="member-usage">
          <span>{plural(m.usage.actions_30d, 'action')}</span>
          <span class="muted">{plural(m.usage.open_sessions, 'session')} open</span>
        </span>
      ),
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (m) => (
        <div class="row-actions">
          <Menu label={`Actions for ${m.user.name || m.user.email}`} items={itemsFor(m)} trigger={<IconMore size={18} />} />
        </div>
      ),
    },
  ];

  const filtered = !!(q || role || status);
  const page = cursors.length - 1;
  const from = data && data.items.length ? page * PAGE_SIZE + 1 : 0;
  const to = data ? page * PAGE_SIZE + data.items.length : 0;
  const a = action;
  const aName = a ? a.member.user.name || a.member.user.email : '';

  return (
    <>
      <Card flush class="team-card members-card">
        <div class="toolbar" role="search" aria-label="Filter members">
          <SearchInput label="Search members" placeholder="Search by name or email…" value={query} onValue={setQuery} class="toolbar-search" />
          <Select label="Role" hideLabel name="role" size="sm" value={role} onValue={setRole} placeholder="All roles" options={ROLES} class="toolbar-select" />
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
          <Select label="Sort by" hideLabel name="sort" size="sm" value={sort} onValue={setSort} options={SORTS} class="toolbar-select toolbar-sort" />
          {loading && data && (
            <span class="toolbar-spinner">
              <Spinner size={16} label="Updating the list" />
            </span>
          )}
        </div>
        {data && data.items.length > 0 ? (
          <>
            <Table
              caption={`Members of ${workspace}`}
              columns={columns}
              rows={data.items}
              rowKey={(m) => m.id}
              rowClass={(m) => [m.status !== 'active' && 'is-deactivated', m.user.id === meId && 'is-self'].filter(Boolean).join(' ') || undefined}
              sort={sort}
              onSort={setSort}
            />
            <div class="card-pagination">
              <Pagination
                from={from}
                to={to}
                total={data.total}
                noun={data.total === 1 ? 'member' : 'members'}
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
              icon={<IconUsers size={20} />}
              title="No members match"
              action={
                <Button
                  size="sm"
                  onClick={() => {
                    setQuery('');
                    setQ('');
                    setRole('');
                    setStatus('');
                  }}
                >
                  Clear filters
                </Button>
              }
            >
              Nobody {q ? <>matches “{q}”</> : 'here'}
              {role ? ` with the role ${ROLE_INFO[role as Role]?.label ?? role}` : ''}
              {status ? ` who is ${status}` : ''}. {onInvite && canWrite ? 'Looking for someone new? Invite them.' : ''}
            </EmptyState>
          ) : (
            <EmptyState icon={<IconUsers size={20} />} title="No members yet" action={onInvite && canWrite && <Button icon={<IconUserPlus size={16} />} onClick={onInvite}>Invite people</Button>} />
          )
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the members" onRetry={() => setLocal((v) => v + 1)} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading members" />
          </div>
        )}
      </Card>

      <RoleDialog
        wsId={wsId}
        member={a?.kind === 'role' ? a.member : null}
        myRole={myRole}
        self={a?.member.user.id === meId}
        onlyOwner={a ? onlyOwner(a.member) : false}
        workspace={workspace}
        canTransfer={myRole === 'owner' && !agency && !transfer}
        onClose={() => setAction(null)}
        onSaved={(m, before) => {
          setAction(null);
          replaceRow(m);
          refresh();
          toast({
            title: `${m.user.name || m.user.email} is now ${ROLE_INFO[m.role].label === 'Admin' ? 'an admin' : ROLE_INFO[m.role].label === 'Owner' ? 'an owner' : 'a member'}`,
            description:
              ROLE_RANK[m.role] < ROLE_RANK[before]
                ? `Was ${ROLE_INFO[before].label.toLowerCase()}. Pending invitations they sent above their new role were cancelled.`
                : `Was ${ROLE_INFO[before].label.toLowerCase()}.`,
          });
        }}
      />
      <ConfirmDialog
        open={a?.kind === 'transfer'}
        tone="primary"
        title={a ? `Make ${aName} the owner of ${workspace}?` : ''}
        description={
          a && (
            <>
              <p>
                We'll ask {firstName(a.member.user.name, a.member.user.email)} to accept. When they do, they become an owner and{' '}
                <strong>you become an admin</strong>, in one step.
              </p>
              <p class="dialog-note">Until they accept, nothing changes and you can cancel the request from the Team page.</p>
            </>
          )
        }
        confirmLabel="Send request"
        busy={busy}
        onConfirm={() =>
          a &&
          void run(() => teamApi.proposeTransfer(wsId, a.member.id), {
            title: `Ownership offered to ${aName}`,
            description: 'They see the request on the Team page and by email.',
          })
        }
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={a?.kind === 'deactivate'}
        title={a ? `Deactivate ${aName}?` : ''}
        description={
          a && (
            <>
              <p>
                {firstName(a.member.user.name, a.member.user.email)} can't open {workspace} until you reactivate them. Their role and
                history are kept, and their seat is freed.
              </p>
              <p class="dialog-note">Invitations they sent that are still pending are cancelled.</p>
              {onlyOwner(a.member) && (
                <Alert tone="warning" title={`${firstName(a.member.user.name, a.member.user.email)} is the only active owner`}>
                  {workspace} must keep an active owner. Make someone else an owner first.
                </Alert>
              )}
            </>
          )
        }
        confirmLabel="Deactivate"
        busy={busy}
        onConfirm={() =>
          a &&
          void run(() => teamApi.deactivate(wsId, a.member.id), {
            title: `${aName} is deactivated`,
            description: 'Their seat is free. Reactivate them from the same menu.',
          })
        }
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={a?.kind === 'remove'}
        title={a ? `Remove ${aName} from ${workspace}?` : ''}
        description={
          a && (
            <>
              <p>
                They lose access right away and their seat is freed. Invitations they sent that are still pending are cancelled.
              </p>
              <p class="dialog-note">Their Atrium account and past activity are kept. You can invite them again later.</p>
              {onlyOwner(a.member) && (
                <Alert tone="warning" title={`${firstName(a.member.user.name, a.member.user.email)} is the only active owner`}>
                  {workspace} must keep an active owner. Make someone else an owner first.
                </Alert>
              )}
            </>
          )
        }
        confirmLabel="Remove member"
        busy={busy}
        onConfirm={() =>
          a &&
          void run(() => teamApi.remove(wsId, a.member.id), {
            title: `${aName} was removed`,
            description: `They no longer have access to ${workspace}.`,
          })
        }
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={a?.kind === 'sessions'}
        title={a ? `Sign ${aName} out everywhere?` : ''}
        description={
          a && (
            <>
              <p>
                This ends {plural(a.member.usage.open_sessions, 'open session')} on all their devices, for their whole Atrium account,
                not just {workspace}.
              </p>
              <p class="dialog-note">They can sign in again right away. To keep them out of {workspace}, deactivate them instead.</p>
            </>
          )
        }
        confirmLabel="End sessions"
        busy={busy}
        onConfirm={() =>
          a &&
          void run(() => teamApi.endSessions(wsId, a.member.id), {
            title: `${aName} was signed out everywhere`,
          })
        }
        onCancel={() => setAction(null)}
      />
      <MemberActivity
        wsId={wsId}
        member={a?.kind === 'activity' ? a.member : null}
        inviterName={a?.member.invited_by ? names.get(a.member.invited_by) : undefined}
        onClose={() => setAction(null)}
      />
    </>
  );
}

// ---- Change role -----------------------------------------------------------------------------------

function RoleDialog({
  wsId,
  member,
  myRole,
  self,
  onlyOwner,
  workspace,
  canTransfer,
  onClose,
  onSaved,
}: {
  wsId: string;
  member: Member | null;
  myRole: Role;
  self: boolean;
  onlyOwner: boolean;
  workspace: string;
  canTransfer: boolean;
  onClose: () => void;
  onSaved: (m: Member, before: Role) => void;
}) {
  const id = useId();
  const [role, setRole] = useState<Role>('member');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail?: string } | null>(null);
  useEffect(() => {
    if (member) {
      setRole(member.role);
      setError(null);
    }
  }, [member?.id]);
  if (!member) return null;
  const name = member.user.name || member.user.email;
  const them = self ? 'you' : firstName(member.user.name, member.user.email);
  const changed = role !== member.role;
  const demote = ROLE_RANK[role] < ROLE_RANK[member.role];
  const blockedByLastOwner = onlyOwner && role !== 'owner';

  const save = async () => {
    if (!changed || blockedByLastOwner || busy) return;
    setBusy(true);
    setError(null);
    try {
      const m = await teamApi.setRole(wsId, member.id, role);
      onSaved(m, member.role);
    } catch (e) {
      setError(refusalText(e, { workspace }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open
      onClose={() => !busy && onClose()}
      role="alertdialog"
      size="lg"
      title={self ? 'Change your role' : `Change ${name}'s role`}
      description={
        <>
          {self ? 'You are' : `${them} is`} {member.role === 'admin' ? 'an admin' : member.role === 'owner' ? 'an owner' : 'a member'} of {workspace}. Pick the
          new role.
        </>
      }
      dismissable={!busy}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" onClick={() => void save()} loading={busy} disabled={!changed || blockedByLastOwner}>
            {changed ? `Make ${self ? 'me' : them} ${role === 'admin' ? 'an admin' : role === 'owner' ? 'an owner' : 'a member'}` : 'Change role'}
          </Button>
        </>
      }
    >
      <div class="role-rules" id={`${id}-rules`}>
        <IconInfo size={16} />
        <ul>
          <li>Only owners can make someone an owner or change an owner's role.</li>
          <li>Nobody can grant a role above their own.</li>
          <li>{workspace} always keeps at least one active owner.</li>
        </ul>
      </div>
      {error && (
        <Alert tone="danger" title={error.title} class="role-error">
          {error.detail}
        </Alert>
      )}
      <fieldset class="role-options" aria-describedby={`${id}-rules`}>
        <legend class="visually-hidden">New role</legend>
        {(['owner', 'admin', 'member'] as Role[]).map((r) => {
          const why = whyNotGrant(r, myRole);
          const current = r === member.role;
          return (
            <label key={r} class={['role-option', role === r && 'is-selected', why && 'is-disabled'].filter(Boolean).join(' ')}>
              <input
                type="radio"
                name={`${id}-role`}
                value={r}
                checked={role === r}
                disabled={!!why}
                aria-describedby={`${id}-${r}-desc`}
                onChange={() => setRole(r)}
              />
              <span class="role-option-text">
                <span class="role-option-title">
                  {ROLE_INFO[r].label}
                  {current && <Badge tone="neutral">Current</Badge>}
                </span>
                <span class="role-option-desc" id={`${id}-${r}-desc`}>
                  {ROLE_INFO[r].summary}
                  {why && <span class="role-option-why">{why}</span>}
                </span>
              </span>
            </label>
          );
        })}
      </fieldset>
      {changed && blockedByLastOwner && (
        <Alert tone="warning" title={`${self ? 'You are' : `${name} is`} the only active owner`}>
          {workspace} must keep an active owner. Make someone else an owner first{canTransfer ? ' (Make owner… in their row)' : ''}, then
          change this role.
        </Alert>
      )}
      {changed && !blockedByLastOwner && role === 'owner' && (
        <p class="role-effect">
          {them[0].toUpperCase() + them.slice(1)} will have full control of {workspace} right away, and you stay an owner.
          {canTransfer && ' To hand the workspace over instead (you become an admin), use Make owner….'}
        </p>
      )}
      {changed && !blockedByLastOwner && !demote && role === 'admin' && (
        <p class="role-effect">
          {self ? 'You' : them[0].toUpperCase() + them.slice(1)} will be able to manage the team, settings, integrations and API keys of {workspace},
          but not its owners.
        </p>
      )}
      {changed && !blockedByLastOwner && demote && (
        <p class="role-effect">
          {self
            ? `You'll lose what the ${ROLE_INFO[member.role].label.toLowerCase()} role allows${member.role === 'admin' ? ', including this page' : ''}, straight away.`
            : `Invitations ${them} sent that are still pending and above the new role are cancelled.`}
        </p>
      )}
    </Dialog>
  );
}
