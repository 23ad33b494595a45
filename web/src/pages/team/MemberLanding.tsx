// What a plain member sees at /w/{id}/settings/team (the ownership-transfer mail links here, and the
// Team section itself is for owners and admins): who manages the team, a way to answer an ownership
// offer, and leaving the workspace.
import { useState } from 'preact/hooks';
import { ApiError, type Sections } from '../../api';
import { teamApi } from '../../api-team';
import { Link, navigate } from '../../router';
import { Alert, Button, Card, ConfirmDialog, IconCrown, IconDoor, IconLock, useToast } from '../../ui';
import { firstSectionPath, useWorkspaces } from '../../workspace';
import { useTitle } from '../title';

export function TeamMemberLanding({ wsId, data, workspace }: { wsId: string; data: Sections; workspace: string }) {
  useTitle(`Team · ${workspace}`);
  const toast = useToast();
  const { reloadWorkspaces, loadSections } = useWorkspaces();
  const [busy, setBusy] = useState<'accept' | 'decline' | 'leave' | null>(null);
  const [answer, setAnswer] = useState<{ tone: 'success' | 'info'; text: string } | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [leaveError, setLeaveError] = useState<string | null>(null);

  const transfer = async (kind: 'accept' | 'decline') => {
    setBusy(kind);
    setAnswer(null);
    try {
      if (kind === 'accept') {
        await teamApi.acceptTransfer(wsId);
        toast({ title: `You're now an owner of ${workspace}` });
        await loadSections(wsId);
        void reloadWorkspaces();
        navigate(`/w/${encodeURIComponent(wsId)}/settings/team`, { replace: true });
      } else {
        await teamApi.cancelTransfer(wsId);
        setAnswer({ tone: 'success', text: 'You declined the offer. Nothing changed.' });
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404)
        setAnswer({ tone: 'info', text: `There's no ownership offer waiting for you in ${workspace}. It may have been cancelled.` });
      else setAnswer({ tone: 'info', text: e instanceof ApiError ? (e.detail ?? e.title) : 'Something went wrong. Try again.' });
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
      toast({ title: `You left ${workspace}` });
      navigate('/', { replace: true });
    } catch (e) {
      setLeaveError(e instanceof ApiError ? (e.detail ?? e.title) : 'Something went wrong. Try again.');
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="member-landing">
      <div class="not-found-icon" aria-hidden="true">
        <IconLock size={22} />
      </div>
      <h1 tabIndex={-1}>Team</h1>
      <p class="not-found-text">
        Owners and admins of {workspace} manage its members and invitations. Ask one of them if you need someone added or a role
        changed.
      </p>
      <Card class="landing-card">
        <div class="landing-row">
          <span class="landing-icon" aria-hidden="true">
            <IconCrown size={18} />
          </span>
          <div class="landing-text">
            <h2>Were you offered ownership?</h2>
            <p>If an owner asked you to take over {workspace}, answer here. You become an owner and they become an admin.</p>
            {answer && (
              <Alert tone={answer.tone} class="landing-alert">
                {answer.text}
              </Alert>
            )}
          </div>
        </div>
        <div class="landing-actions">
          <Button size="sm" onClick={() => void transfer('decline')} loading={busy === 'decline'} disabled={!!busy && busy !== 'decline'}>
            Decline
          </Button>
          <Button size="sm" variant="primary" onClick={() => void transfer('accept')} loading={busy === 'accept'} disabled={!!busy && busy !== 'accept'}>
            Accept ownership
          </Button>
        </div>
      </Card>
      {!data.agency && (
        <Card class="landing-card">
          <div class="landing-row">
            <span class="landing-icon is-danger" aria-hidden="true">
              <IconDoor size={18} />
            </span>
            <div class="landing-text">
              <h2>Leave {workspace}</h2>
              <p>You lose access right away. Your account and other workspaces are not affected.</p>
            </div>
          </div>
          <div class="landing-actions">
            <Button size="sm" class="btn-danger-outline" onClick={() => setLeaving(true)}>
              Leave workspace…
            </Button>
          </div>
        </Card>
      )}
      <Link href={firstSectionPath(wsId, data)} class="btn btn-ghost btn-md">
        Back to Settings
      </Link>
      <ConfirmDialog
        open={leaving}
        title={`Leave ${workspace}?`}
        description={
          <>
            <p>You'll lose access to {workspace} right away. To come back, an owner or admin has to invite you again.</p>
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
    </div>
  );
}
