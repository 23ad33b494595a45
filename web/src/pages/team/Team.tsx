// Team: the people of a workspace. A seat meter (with the way to Billing when it's full), a pending
// ownership transfer (accept / decline for the person offered it; cancel for owners), the Members
// and Pending invitations tabs, the invite dialog, and leaving the workspace.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Role } from '../../api';
import { teamApi, type Member, type OwnershipTransfer, type Seats } from '../../api-team';
import { formatRelative } from '../../lib/format';
import { Link, navigate, useLocation } from '../../router';
import { useSession } from '../../session';
import {
  Alert,
  Button,
  Card,
  ConfirmDialog,
  Dialog,
  IconCrown,
  IconDoor,
  IconUserPlus,
  PageHeader,
  useToast,
} from '../../ui';
import { useWorkspaces, workspaceName, workspacePath } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { InviteDialog } from './InviteDialog';
import { Invitations } from './Invitations';
import { Members } from './Members';
import { isProblem, plural } from './shared';
import './team.css';

type Tab = 'members' | 'invitations';

interface Summary {
  seats: Seats;
  transfer: OwnershipTransfer | null;
  owners: Member[];
  total: number;
}

export function Team({ wsId, section, sections, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const { state } = useSession();
  const me = state.status === 'signed-in' ? state.me.user : null;
  const { search } = useLocation();
  const { reloadWorkspaces, loadSections } = useWorkspaces();
  const toast = useToast();
  const canWrite = section.access === 'write';
  const myRole: Role = sections.role;
  const agency = sections.agency;
  const billing = sections.items.some((s) => s.id === 'billing') ? workspacePath(wsId, 'billing') : undefined;

  const [tab, setTab] = useState<Tab>(search.get('tab') === 'invitations' ? 'invitations' : 'members');
  const [version, setVersion] = useState(0);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [inviting, setInviting] = useState(search.get('invite') === '1');
  const [fresh, setFresh] = useState<string[]>([]);
  const [leaving, setLeaving] = useState(false);
  const [leaveBusy, setLeaveBusy] = useState(false);
  const [leaveError, setLeaveError] = useState<{ title: string; detail: string } | null>(null);
  const tabs = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([
      teamApi.members(wsId, { limit: 1 }, ctl.signal),
      teamApi.members(wsId, { role: 'owner', status: 'active', limit: 100 }, ctl.signal),
    ])
      .then(([all, owners]) =>
        setSummary({ seats: all.seats, transfer: all.ownership_transfer, owners: owners.items, total: all.total }),
      )
      .catch(() => {
        /* The tabs show their own load errors. */
      });
    return () => ctl.abort();
  }, [wsId, version]);

  const changed = () => setVersion((v) => v + 1);
  const seats = summary?.seats ?? null;
  const transfer = summary?.transfer ?? null;
  const onlyOwner =
    myRole === 'owner' && !!summary && summary.owners.length === 1 && summary.owners[0].user.id === me?.id;

  const select = (t: Tab) => {
    setTab(t);
    if (t === 'members') navigate(window.location.pathname, { replace: true });
  };
  const onTabKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const next: Tab = e.key === 'Home' ? 'members' : e.key === 'End' ? 'invitations' : tab === 'members' ? 'invitations' : 'members';
    select(next);
    tabs.current?.querySelector<HTMLElement>(`#team-tab-${next}`)?.focus();
  };

  const leave = async () => {
    setLeaveBusy(true);
    setLeaveError(null);
    try {
      await teamApi.leave(wsId);
      setLeaving(false);
      await reloadWorkspaces();
      toast({ title: `You left ${name}`, description: 'It no longer appears in your workspaces.' });
      navigate('/', { replace: true });
    } catch (e) {
      if (isProblem(e, 'last-owner')) changed();
      if (isProblem(e, 'last-owner'))
        setLeaveError({
          title: `You're the only owner of ${name}`,
          detail: 'A workspace must keep an active owner. Make someone else an owner (Make owner… in their row), then leave.',
        });
      else
        setLeaveError({
          title: e instanceof ApiError ? e.title : "Couldn't leave the workspace",
          detail: e instanceof ApiError ? (e.detail ?? 'Try again in a moment.') : 'Try again in a moment.',
        });
    } finally {
      setLeaveBusy(false);
    }
  };

  const openInvite = canWrite ? () => setInviting(true) : undefined;

  return (
    <>
      <PageHeader
        title={section.title}
        description={`The people who can use ${name}, what each of them may do, and the invitations still waiting for an answer.`}
        actions={
          canWrite && (
            <Button variant="primary" icon={<IconUserPlus size={16} />} onClick={() => setInviting(true)}>
              Invite people
            </Button>
          )
        }
      />

      {transfer && me && (
        <TransferNotice
          wsId={wsId}
          transfer={transfer}
          meId={me.id}
          myRole={myRole}
          workspace={name}
          onDone={async (accepted) => {
            changed();
            if (accepted) {
              await loadSections(wsId);
              void reloadWorkspaces();
            }
          }}
        />
      )}

      <SeatMeter seats={seats} billing={billing} myRole={myRole} />

      <div class="tabs" role="tablist" aria-label="Team" ref={tabs} onKeyDown={onTabKey}>
        <TabButton id="members" selected={tab === 'members'} onSelect={select} count={summary?.total}>
          Members
        </TabButton>
        <TabButton id="invitations" selected={tab === 'invitations'} onSelect={select} count={seats?.pending_invitations}>
          Pending invitations
        </TabButton>
      </div>
      <div role="tabpanel" id={`team-panel-${tab}`} aria-labelledby={`team-tab-${tab}`}>
        {tab === 'members' ? (
          <Members
            wsId={wsId}
            workspace={name}
            meId={me?.id ?? ''}
            myRole={myRole}
            canWrite={canWrite}
            agency={agency}
            owners={summary?.owners ?? null}
            transfer={transfer}
            version={version}
            onChanged={changed}
            onLeave={() => {
              setLeaveError(null);
              setLeaving(true);
            }}
            onInvite={openInvite}
          />
        ) : (
          <Invitations wsId={wsId} workspace={name} canWrite={canWrite} version={version} fresh={fresh} onChanged={changed} onInvite={openInvite} />
        )}
      </div>

      {!agency && (
        <Card class="leave-card">
          <div class="leave-row">
            <div>
              <h2 class="leave-title">Leave {name}</h2>
              <p class="leave-text">
                You lose access right away, and invitations you sent that are still pending are cancelled. An owner or admin can invite you
                back.
              </p>
              {onlyOwner && (
                <p class="leave-warning">
                  You're the only owner. Make someone else an owner before you leave.
                </p>
              )}
            </div>
            <Button
              variant="secondary"
              class="btn-danger-outline"
              icon={<IconDoor size={16} />}
              onClick={() => {
                setLeaveError(null);
                setLeaving(true);
              }}
            >
              Leave workspace…
            </Button>
          </div>
        </Card>
      )}

      <InviteDialog
        open={inviting}
        wsId={wsId}
        myRole={myRole}
        seats={seats}
        workspace={name}
        billingPath={billing}
        onSent={(emails) => {
          setFresh(emails);
          changed();
        }}
        onClose={(invited) => {
          setInviting(false);
          if (invited > 0) select('invitations');
        }}
      />
      {onlyOwner && !leaveError ? (
        <Dialog
          open={leaving}
          onClose={() => setLeaving(false)}
          role="alertdialog"
          title={`You can't leave ${name} yet`}
          description={
            <>
              <p>You're its only owner, and a workspace must always keep an active owner.</p>
              <p class="dialog-note">
                Make someone else an owner first: choose <strong>Make owner…</strong> in their row. Once they accept, you can leave.
              </p>
            </>
          }
          footer={
            <Button variant="primary" onClick={() => setLeaving(false)}>
              Got it
            </Button>
          }
        />
      ) : (
        <ConfirmDialog
          open={leaving}
          title={`Leave ${name}?`}
          description={
            <>
              <p>You'll lose access to {name} right away. Invitations you sent that are still pending are cancelled.</p>
              <p class="dialog-note">Your Atrium account and your other workspaces are not affected.</p>
              {leaveError && (
                <Alert tone="danger" title={leaveError.title} class="dialog-alert">
                  {leaveError.detail}
                </Alert>
              )}
            </>
          }
          confirmLabel="Leave workspace"
          busy={leaveBusy}
          onConfirm={() => void leave()}
          onCancel={() => setLeaving(false)}
        />
      )}
    </>
  );
}

function TabButton({
  id,
  selected,
  onSelect,
  count,
  children,
}: {
  id: Tab;
  selected: boolean;
  onSelect: (t: Tab) => void;
  count?: number;
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      role="tab"
      id={`team-tab-${id}`}
      class="tab"
      aria-selected={selected}
      aria-controls={`team-panel-${id}`}
      tabIndex={selected ? 0 : -1}
      onClick={() => onSelect(id)}
    >
      {children}
      {count !== undefined && <span class="tab-count">{count}</span>}
    </button>
  );
}

// ---- Seats ----------------------------------------------------------------------------------------

function SeatMeter({ seats, billing, myRole }: { seats: Seats | null; billing?: string; myRole: Role }) {
  const membersBar = useRef<HTMLSpanElement>(null);
  const pendingBar = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!seats || seats.limit === null) return;
    const limit = seats.limit;
    const pct = (n: number) => `${limit ? Math.min(100, (n / limit) * 100) : 0}%`;
    if (membersBar.current) membersBar.current.style.width = pct(seats.active_members);
    if (pendingBar.current) pendingBar.current.style.width = pct(Math.min(seats.pending_invitations, Math.max(0, limit - seats.active_members)));
  }, [seats?.limit, seats?.active_members, seats?.pending_invitations]);

  if (!seats)
    return (
      <Card class="seats-card">
        <div class="seats-skeleton" aria-hidden="true">
          <span class="skeleton skeleton-title" />
          <span class="skeleton skeleton-bar" />
        </div>
      </Card>
    );
  if (seats.provided_by || seats.limit === null || seats.available === null)
    return <ProvidedSeats seats={seats} agency={seats.provided_by?.name ?? 'your agency'} />;
  const full = seats.available <= 0;
  const near = !full && seats.available <= Math.max(1, Math.floor(seats.limit * 0.1));
  return (
    <section class={['card', 'seats-card', full && 'is-full'].filter(Boolean).join(' ')} aria-labelledby="seats-title">
      <div class="seats-head">
        <div>
          <h2 class="seats-title" id="seats-title">
            <strong>{seats.used}</strong> of {seats.limit} seats used
          </h2>
          <p class="seats-sub">
            Members and pending invitations each hold a seat of the subscription that pays for this workspace;
            sub-accounts billed to their agency share its seats. Deactivated members don't.
          </p>
        </div>
        <p class={full ? 'seats-free is-none' : near ? 'seats-free is-low' : 'seats-free'}>
          {full ? 'No seats free' : `${plural(seats.available, 'seat')} free`}
        </p>
      </div>
      <div
        class="seats-bar"
        role="meter"
        aria-label="Seats used"
        aria-valuemin={0}
        aria-valuemax={seats.limit}
        aria-valuenow={Math.min(seats.used, seats.limit)}
        aria-valuetext={`${seats.used} of ${seats.limit} seats used`}
      >
        <span ref={membersBar} class="seats-bar-members" />
        <span ref={pendingBar} class="seats-bar-pending" />
      </div>
      <ul class="seats-legend" role="list">
        <li>
          <span class="seats-dot is-members" aria-hidden="true" />
          {plural(seats.active_members, 'active member')}
        </li>
        <li>
          <span class="seats-dot is-pending" aria-hidden="true" />
          {plural(seats.pending_invitations, 'pending invitation')}
        </li>
        <li>
          <span class="seats-dot is-free" aria-hidden="true" />
          {plural(seats.available, 'free seat')}
        </li>
      </ul>
      {full && (
        <Alert tone="warning" title={`All ${seats.limit} seats are in use`} class="seats-alert">
          New invitations, and reactivating members, are refused until a seat frees up.{' '}
          {billing ? (
            <>
              <Link href={billing}>Add seats in Billing</Link>, or cancel a pending invitation.
            </>
          ) : myRole === 'owner' ? (
            'Add seats in Billing, or cancel a pending invitation.'
          ) : (
            'Ask an owner to add seats in Billing, or cancel a pending invitation.'
          )}
        </Alert>
      )}
    </section>
  );
}

/**
 * The seat card of a sub-account whose agency provides the seats: its own members and invitations and
 * who provides them, never the agency's pool (its size, its use, what is left).
 */
function ProvidedSeats({ seats, agency }: { seats: Seats; agency: string }) {
  return (
    <section class={['card', 'seats-card', seats.full && 'is-full'].filter(Boolean).join(' ')} aria-labelledby="seats-title">
      <div class="seats-head">
        <div>
          <h2 class="seats-title" id="seats-title">
            <strong>{seats.used}</strong> {seats.used === 1 ? 'seat' : 'seats'} used here
          </h2>
          <p class="seats-sub">
            Seats are provided by {agency}. Members and pending invitations each hold one; deactivated members don't.
          </p>
        </div>
        <p class={seats.full ? 'seats-free is-none' : 'seats-free'}>{seats.full ? 'No seats free' : `Provided by ${agency}`}</p>
      </div>
      <ul class="seats-legend" role="list">
        <li>
          <span class="seats-dot is-members" aria-hidden="true" />
          {plural(seats.active_members, 'active member')}
        </li>
        <li>
          <span class="seats-dot is-pending" aria-hidden="true" />
          {plural(seats.pending_invitations, 'pending invitation')}
        </li>
      </ul>
      {seats.full && (
        <Alert tone="warning" title={`All seats provided by ${agency} are in use`} class="seats-alert">
          New invitations, and reactivating members, are refused until a seat frees up. Ask {agency} to add seats, or
          cancel a pending invitation.
        </Alert>
      )}
    </section>
  );
}

// ---- Ownership transfer ----------------------------------------------------------------------------

function TransferNotice({
  wsId,
  transfer,
  meId,
  myRole,
  workspace,
  onDone,
}: {
  wsId: string;
  transfer: OwnershipTransfer;
  meId: string;
  myRole: Role;
  workspace: string;
  onDone: (accepted: boolean) => void;
}) {
  const toast = useToast();
  const [busy, setBusy] = useState<'accept' | 'decline' | null>(null);
  const [confirming, setConfirming] = useState(false);
  const toMe = transfer.to.id === meId;
  const fromMe = transfer.from.id === meId;
  const canCancel = toMe || myRole === 'owner';

  const act = async (kind: 'accept' | 'decline') => {
    setBusy(kind);
    try {
      if (kind === 'accept') await teamApi.acceptTransfer(wsId);
      else await teamApi.cancelTransfer(wsId);
      setConfirming(false);
      toast(
        kind === 'accept'
          ? { title: `You're now an owner of ${workspace}`, description: `${transfer.from.name} is an admin now.` }
          : toMe
            ? { title: 'You declined the ownership transfer', description: `${transfer.from.name} stays the owner.` }
            : { title: 'Ownership transfer cancelled', description: `${transfer.to.name} was not made an owner.` },
      );
      onDone(kind === 'accept');
    } catch (e) {
      toast({
        tone: 'danger',
        title: kind === 'accept' ? "Couldn't accept the transfer" : "Couldn't cancel the transfer",
        description: e instanceof ApiError ? (e.status === 404 ? 'It was already accepted or cancelled.' : e.detail ?? e.title) : undefined,
      });
      setConfirming(false);
      onDone(false);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section class={toMe ? 'transfer is-for-me' : 'transfer'} aria-label="Ownership transfer" data-testid="ownership-transfer">
      <span class="transfer-icon" aria-hidden="true">
        <IconCrown size={18} />
      </span>
      <div class="transfer-text">
        {toMe ? (
          <>
            <p class="transfer-title">{transfer.from.name} wants to make you the owner of {workspace}</p>
            <p>
              If you accept, you become an owner with full control, including billing and ownership, and {transfer.from.name} becomes an
              admin.
            </p>
          </>
        ) : (
          <>
            <p class="transfer-title">
              {fromMe ? 'You' : transfer.from.name} offered ownership of {workspace} to {transfer.to.name}
            </p>
            <p>
              Waiting for {transfer.to.name} to accept (asked {formatRelative(transfer.created_at)}). Until then nothing changes
              {fromMe ? '; you become an admin when they accept.' : '.'}
            </p>
          </>
        )}
      </div>
      <div class="transfer-actions">
        {toMe && (
          <Button variant="primary" size="sm" onClick={() => setConfirming(true)} disabled={!!busy}>
            Accept ownership
          </Button>
        )}
        {canCancel && (
          <Button size="sm" loading={busy === 'decline'} disabled={busy === 'accept'} onClick={() => void act('decline')}>
            {toMe ? 'Decline' : 'Cancel transfer'}
          </Button>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        tone="primary"
        title={`Become the owner of ${workspace}?`}
        description={
          <>
            <p>You'll have full control of {workspace}, including billing, ownership and deleting it.</p>
            <p class="dialog-note">{transfer.from.name} becomes an admin. Owners can make other owners later.</p>
          </>
        }
        confirmLabel="Accept ownership"
        busy={busy === 'accept'}
        onConfirm={() => void act('accept')}
        onCancel={() => setConfirming(false)}
      />
    </section>
  );
}
