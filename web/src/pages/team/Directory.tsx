// Team, as a member sees it: a read-only directory of the workspace (names, roles, join dates; the
// API leaves addresses out for members), the ownership offer when one is waiting for the viewer, and
// leaving the workspace. Owners and admins get the full Team page instead.
import { useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { teamApi, type MemberPage } from '../../api-team';
import { formatDate, formatFull, initials } from '../../lib/format';
import { useDebounced, useLoad } from '../../lib/load';
import { navigate } from '../../router';
import { useSession } from '../../session';
import {
  Alert,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  IconCrown,
  IconDoor,
  IconUsers,
  PageHeader,
  SearchInput,
  Spinner,
  Table,
  useToast,
  type Column,
} from '../../ui';
import { useWorkspaces, workspaceName } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { RoleBadge } from './shared';
import './team.css';

type Row = MemberPage['items'][number];

export function TeamDirectory({ wsId, section, sections, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(`${section.title} · ${name}`);
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.me.user : null;
  const toast = useToast();
  const { reloadWorkspaces, loadSections } = useWorkspaces();
  const [query, setQuery] = useState('');
  const q = useDebounced(query);
  const { data: page, error, loading, reload } = useLoad<MemberPage>(
    (signal) => teamApi.members(wsId, { q: q || undefined, status: 'active', sort: 'role', limit: 100 }, signal),
    [wsId, q],
  );
  const [busy, setBusy] = useState<'accept' | 'decline' | 'leave' | null>(null);
  const [offerError, setOfferError] = useState<string | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [leaveError, setLeaveError] = useState<string | null>(null);
  const offer = sections.ownership_offer ?? null;

  const answer = async (kind: 'accept' | 'decline') => {
    setBusy(kind);
    setOfferError(null);
    try {
      if (kind === 'accept') await teamApi.acceptTransfer(wsId);
      else await teamApi.cancelTransfer(wsId);
      toast(
        kind === 'accept'
          ? { title: `You're now an owner of ${name}` }
          : { title: 'You declined the ownership offer', description: `${offer?.from.name ?? 'The owner'} stays the owner.` },
      );
      await loadSections(wsId);
      if (kind === 'accept') void reloadWorkspaces();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setOfferError('This offer is no longer open; it may have been cancelled.');
        await loadSections(wsId);
      } else setOfferError(e instanceof ApiError ? (e.detail ?? e.title) : 'Something went wrong. Try again.');
    } finally {
      setBusy(null);
    }
  };

  const leave = async () => {
    setBusy('leave');
    setLeaveError(null);
    try {
      await teamApi.leave(wsId);
      setLeaving(false);
      await reloadWorkspaces();
      toast({ title: `You left ${name}` });
      navigate('/', { replace: true });
    } catch (e) {
      setLeaveError(e instanceof ApiError ? (e.detail ?? e.title) : 'Something went wrong. Try again.');
    } finally {
      setBusy(null);
    }
  };

  const columns: Column<Row>[] = [
    {
      key: 'name',
      header: 'Name',
      primary: true,
      class: 'col-member',
      render: (m) => (
        <div class="member-cell">
          {m.user.avatar_url ? (
            <img class="avatar avatar-img" src={m.user.avatar_url} alt="" />
          ) : (
            <span class="avatar" aria-hidden="true">
              {initials(m.user.name, '')}
            </span>
          )}
          <span class="member-name">
            {m.user.name}
            {m.user.id === me?.id && <span class="muted"> (you)</span>}
          </span>
        </div>
      ),
    },
    { key: 'role', header: 'Role', class: 'nowrap', render: (m) => <RoleBadge role={m.role} /> },
    {
      key: 'joined',
      header: 'Joined',
      class: 'nowrap',
      render: (m) => (
        <time dateTime={m.joined_at} title={formatFull(m.joined_at)}>
          {formatDate(m.joined_at)}
        </time>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title={section.title}
        description={`The people in ${name}. Owners and admins manage members and invitations; ask one of them to add someone or change a role.`}
      />
      {offer && (
        <section class="directory-offer" aria-label="Ownership offer" data-testid="ownership-offer">
        <Card class="landing-card">
          <div class="landing-row">
            <span class="landing-icon" aria-hidden="true">
              <IconCrown size={18} />
            </span>
            <div class="landing-text">
              <h2>{offer.from.name} offered you ownership of {name}</h2>
              <p>If you accept, you become an owner with full control, including billing, and {offer.from.name} becomes an admin.</p>
              {offerError && (
                <Alert tone="info" class="landing-alert">
                  {offerError}
                </Alert>
              )}
            </div>
          </div>
          <div class="landing-actions">
            <Button size="sm" onClick={() => void answer('decline')} loading={busy === 'decline'} disabled={!!busy && busy !== 'decline'}>
              Decline
            </Button>
            <Button size="sm" variant="primary" onClick={() => void answer('accept')} loading={busy === 'accept'} disabled={!!busy && busy !== 'accept'}>
              Accept ownership
            </Button>
          </div>
        </Card>
        </section>
      )}
      <Card flush class="subs-card directory-card">
        <div class="toolbar" role="search" aria-label="Search the team">
          <SearchInput label="Search people" placeholder="Search by name…" value={query} onValue={setQuery} class="toolbar-search" />
          {loading && page && (
            <span class="toolbar-spinner">
              <Spinner size={16} label="Updating the list" />
            </span>
          )}
        </div>
        {page && page.items.length > 0 ? (
          <>
            <Table caption={`People in ${name}`} columns={columns} rows={page.items} rowKey={(m) => m.id} />
            <div class="card-pagination muted">
              {page.total === 1 ? '1 person' : `${page.total} people`}
              {page.total > page.items.length ? ` · showing the first ${page.items.length}; search to find someone` : ''}
            </div>
          </>
        ) : page && !loading ? (
          <EmptyState icon={<IconUsers size={20} />} title={q ? 'Nobody matches' : 'Nobody here yet'}>
            {q ? <>No one in {name} is called “{q}”.</> : 'People appear here once they join.'}
          </EmptyState>
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the team" onRetry={reload} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading the team" />
          </div>
        )}
      </Card>
      {!sections.agency && (
        <Card class="landing-card directory-leave">
          <div class="landing-row">
            <span class="landing-icon is-danger" aria-hidden="true">
              <IconDoor size={18} />
            </span>
            <div class="landing-text">
              <h2>Leave {name}</h2>
              <p>You lose access right away. Your account and other workspaces are not affected.</p>
            </div>
            <Button size="sm" class="btn-danger-outline directory-leave-button" onClick={() => setLeaving(true)}>
              Leave workspace…
            </Button>
          </div>
        </Card>
      )}
      <ConfirmDialog
        open={leaving}
        title={`Leave ${name}?`}
        description={
          <>
            <p>You'll lose access to {name} right away. To come back, an owner or admin has to invite you again.</p>
            {leaveError && (
              <Alert tone="danger" class="dialog-alert">
                {leaveError}
              </Alert>
            )}
          </>
        }
        confirmLabel="Leave workspace"
        busy={busy === 'leave'}
        onConfirm={() => void leave()}
        onCancel={() => setLeaving(false)}
      />
    </>
  );
}
