// The Pending invitations tab: who was invited, as what, by whom, when it was sent and when its link
// stops working; resend (same invitation, a fresh link and a later expiry) and cancel. Other states
// (expired, accepted, cancelled) are one filter away, and expired ones can be resent too.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { teamApi, type Invitation } from '../../api-team';
import { formatDate, formatDateTime, formatFull, formatRelative, formatWait } from '../../lib/format';
import { navigate, useLocation } from '../../router';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  IconMail,
  IconRefresh,
  IconUserPlus,
  IconX,
  SearchInput,
  Select,
  Spinner,
  Table,
  useToast,
  type Column,
} from '../../ui';
import { RoleBadge } from './shared';

const STATUSES = [
  { value: 'pending', label: 'Pending' },
  { value: 'expired', label: 'Expired' },
  { value: 'accepted', label: 'Accepted' },
  { value: 'revoked', label: 'Cancelled' },
  { value: 'all', label: 'All invitations' },
];

function statusBadge(i: Invitation) {
  switch (i.status) {
    case 'pending':
      return (
        <Badge tone="accent" dot>
          Pending
        </Badge>
      );
    case 'expired':
      return (
        <Badge tone="warning" dot>
          Expired
        </Badge>
      );
    case 'accepted':
      return (
        <Badge tone="success" dot>
          Accepted
        </Badge>
      );
    default:
      return (
        <Badge tone="neutral" dot>
          Cancelled
        </Badge>
      );
  }
}

export function Invitations({
  wsId,
  workspace,
  canWrite,
  version,
  fresh,
  onChanged,
  onInvite,
}: {
  wsId: string;
  workspace: string;
  canWrite: boolean;
  version: number;
  /** Addresses just invited (their rows are highlighted). */
  fresh: string[];
  onChanged: () => void;
  onInvite?: () => void;
}) {
  const toast = useToast();
  const { search, path } = useLocation();
  const [status, setStatus] = useState(search.get('status') ?? 'pending');
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<Invitation[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [local, setLocal] = useState(0);
  const [cancelling, setCancelling] = useState<Invitation | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    const p = new URLSearchParams({ tab: 'invitations' });
    if (status !== 'pending') p.set('status', status);
    navigate(`${path}?${p}`, { replace: true });
  }, [status]);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    teamApi
      .invitations(wsId, status, ctl.signal)
      .then((r) => {
        setItems(r.items);
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, status, version, local]);

  const refresh = () => {
    setLocal((v) => v + 1);
    onChanged();
  };

  const resend = async (i: Invitation) => {
    setBusy(i.id);
    try {
      const next = await teamApi.resend(wsId, i.id);
      setItems((list) => list && list.map((x) => (x.id === i.id ? next : x)));
      toast({
        title: `Invitation resent to ${i.email}`,
        description: `A new link is on its way; the old one no longer works. It's valid until ${formatDateTime(next.expires_at)}.`,
      });
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.status === 429)
        toast({
          tone: 'danger',
          title: 'This invitation was just resent',
          description: `To keep inboxes calm, wait ${formatWait(e.retryAfter ?? 60)} before sending it again.`,
        });
      else if (e instanceof ApiError && e.status === 409) {
        toast({ tone: 'danger', title: "This invitation can't be resent", description: e.title });
        refresh();
      } else toast({ tone: 'danger', title: "Couldn't resend the invitation", description: e instanceof ApiError ? e.detail ?? e.title : undefined });
    } finally {
      setBusy(null);
    }
  };

  const cancel = async () => {
    const i = cancelling;
    if (!i) return;
    setBusy(i.id);
    try {
      await teamApi.revoke(wsId, i.id);
      toast({ title: `Invitation to ${i.email} cancelled`, description: 'The link in their email no longer works, and the seat is free.' });
    } catch (e) {
      toast({
        tone: 'danger',
        title: "Couldn't cancel the invitation",
        description: e instanceof ApiError ? (e.status === 409 ? e.title : e.detail ?? e.title) : undefined,
      });
    } finally {
      setBusy(null);
      setCancelling(null);
      refresh();
    }
  };

  const shown = (items ?? []).filter((i) => !query.trim() || i.email.toLowerCase().includes(query.trim().toLowerCase()));
  const open = (i: Invitation) => i.status === 'pending' || i.status === 'expired';

  const columns: Column<Invitation>[] = [
    {
      key: 'email',
      header: 'Email',
      primary: true,
      class: 'col-invite',
      render: (i) => (
        <div class="member-cell">
          <span class="avatar avatar-invite" aria-hidden="true">
            <IconMail size={16} />
          </span>
          <div class="member-text">
            <span class="member-name">{i.email}</span>
            {i.message ? (
              <span class="member-email invite-message" title={i.message}>
                “{i.message}”
              </span>
            ) : (
              <span class="member-email">No personal note</span>
            )}
          </div>
        </div>
      ),
    },
    { key: 'role', header: 'Role', render: (i) => <RoleBadge role={i.role} /> },
    { key: 'inviter', header: 'Invited by', render: (i) => <span class="nowrap">{i.inviter.name || i.inviter.email}</span> },
    {
      key: 'sent',
      header: 'Sent',
      class: 'nowrap',
      render: (i) => (
        <span class="member-usage">
          <time dateTime={i.sent_at} title={formatFull(i.sent_at)}>
            {formatRelative(i.sent_at)}
          </time>
          <span class="muted">{i.resend_count === 0 ? 'Not resent' : `Resent ${i.resend_count === 1 ? 'once' : `${i.resend_count} times`}`}</span>
        </span>
      ),
    },
    {
      key: 'status',
      header: 'Status',
      class: 'nowrap',
      render: (i) => (
        <span class="member-usage">
          {statusBadge(i)}
          {i.status === 'pending' || i.status === 'expired' ? (
            <time dateTime={i.expires_at} title={formatFull(i.expires_at)} class="muted">
              {i.status === 'expired' ? `Since ${formatDate(i.expires_at)}` : `Expires ${formatRelative(i.expires_at)}`}
            </time>
          ) : null}
        </span>
      ),
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (i) =>
        canWrite && open(i) ? (
          <div class="row-actions">
            <Button size="sm" icon={<IconRefresh size={14} />} loading={busy === i.id && !cancelling} onClick={() => void resend(i)}>
              Resend
              <span class="visually-hidden"> the invitation to {i.email}</span>
            </Button>
            <button
              type="button"
              class="icon-button icon-button-sm"
              aria-label={`Cancel the invitation to ${i.email}`}
              title="Cancel invitation"
              onClick={() => setCancelling(i)}
              disabled={busy === i.id}
            >
              <IconX size={16} />
            </button>
          </div>
        ) : null,
    },
  ];

  const label = STATUSES.find((s) => s.value === status)?.label.toLowerCase() ?? status;
  return (
    <>
      <Card flush class="team-card">
        <div class="toolbar" role="search" aria-label="Filter invitations">
          <SearchInput label="Search invitations" placeholder="Search by email…" value={query} onValue={setQuery} class="toolbar-search" />
          <Select label="Status" hideLabel name="invitation-status" size="sm" value={status} onValue={setStatus} options={STATUSES} class="toolbar-select" />
          {loading && items && (
            <span class="toolbar-spinner">
              <Spinner size={16} label="Updating the list" />
            </span>
          )}
        </div>
        {items && shown.length > 0 ? (
          <>
            <Table
              caption={`Invitations to ${workspace} (${label})`}
              columns={columns}
              rows={shown}
              rowKey={(i) => i.id}
              rowClass={(i) => (fresh.includes(i.email) && i.status === 'pending' ? 'is-new' : undefined)}
            />
            <div class="card-pagination">
              <p class="pagination-summary">
                {shown.length} {status === 'all' ? '' : `${label} `}
                {shown.length === 1 ? 'invitation' : 'invitations'}
              </p>
            </div>
          </>
        ) : items && !loading ? (
          query.trim() ? (
            <EmptyState icon={<IconMail size={20} />} title="No invitations match" action={<Button size="sm" onClick={() => setQuery('')}>Clear search</Button>}>
              No {label === 'all invitations' ? '' : `${label} `}invitation is for an address containing “{query.trim()}”.
            </EmptyState>
          ) : status === 'pending' ? (
            <EmptyState
              icon={<IconMail size={20} />}
              title="No pending invitations"
              action={
                canWrite &&
                onInvite && (
                  <Button variant="primary" icon={<IconUserPlus size={16} />} onClick={onInvite}>
                    Invite people
                  </Button>
                )
              }
            >
              Everyone you invited has answered. Invite teammates by email; each invitation holds a seat until it's accepted, cancelled or
              expires.
            </EmptyState>
          ) : (
            <EmptyState icon={<IconMail size={20} />} title={`No ${label === 'all invitations' ? 'invitations' : `${label} invitations`}`} />
          )
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the invitations" onRetry={() => setLocal((v) => v + 1)} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading invitations" />
          </div>
        )}
      </Card>
      <ConfirmDialog
        open={!!cancelling}
        title={cancelling ? `Cancel the invitation to ${cancelling.email}?` : ''}
        description={
          <>
            <p>The link in their email stops working and the seat it holds is freed.</p>
            <p class="dialog-note">You can invite {cancelling?.email ?? 'them'} again at any time.</p>
          </>
        }
        confirmLabel="Cancel invitation"
        cancelLabel="Keep it"
        busy={!!cancelling && busy === cancelling.id}
        onConfirm={() => void cancel()}
        onCancel={() => setCancelling(null)}
      />
    </>
  );
}
