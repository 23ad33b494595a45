// A member's timeline in a side sheet: what they did in this workspace and what was done to their
// membership (joined, role changes, deactivation, sessions ended, ownership), newest first.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { teamApi, ROLE_INFO, type Member, type MemberEvent } from '../../api-team';
import type { Role } from '../../api';
import { formatDateTime, formatFull, formatRelative } from '../../lib/format';
import {
  Dialog,
  EmptyState,
  ErrorState,
  IconActivity,
  IconCrown,
  IconLogOut,
  IconMail,
  IconSettings,
  IconShield,
  IconUser,
  Spinner,
} from '../../ui';
import { MemberAvatar, MemberStatus, RoleBadge } from './shared';

const FIELD: Record<string, string> = {
  name: 'name',
  display_name: 'display name',
  slug: 'slug',
  logo_url: 'logo',
  timezone: 'time zone',
  locale: 'language',
  currency: 'currency',
  legal_name: 'legal name',
  business_type: 'business type',
  industry: 'industry',
  country: 'country',
  address: 'address',
  phone: 'phone',
  website: 'website',
  tax_id: 'tax ID',
};

function roleWord(v: unknown): string {
  return typeof v === 'string' && v in ROLE_INFO ? ROLE_INFO[v as Role].label : String(v ?? '');
}

function V({ children }: { children: ComponentChildren }) {
  return <span class="feed-value">{children}</span>;
}

interface Line {
  icon: ComponentChildren;
  text: ComponentChildren;
}

/** One audit event as a sentence about this member. */
export function describeMemberEvent(e: MemberEvent, member: Member): Line {
  const ch = e.changes ?? {};
  const aboutThem = e.target.id === member.id || e.target.id === member.user.id;
  const them = aboutThem ? member.user.name || member.user.email : 'a member';
  const themPossessive = aboutThem ? `${member.user.name || member.user.email}'s` : "a member's";
  const selfActor = e.actor.id === member.user.id;
  switch (e.action) {
    case 'member.role_changed':
      return {
        icon: <IconShield size={14} />,
        text: (
          <>
            changed {selfActor && aboutThem ? 'their own' : themPossessive} role from <V>{roleWord(ch.role?.before)}</V> to{' '}
            <V>{roleWord(ch.role?.after)}</V>
          </>
        ),
      };
    case 'member.deactivated':
      return { icon: <IconUser size={14} />, text: <>deactivated {them}</> };
    case 'member.reactivated':
      return { icon: <IconUser size={14} />, text: <>reactivated {them}</> };
    case 'member.removed':
      return { icon: <IconUser size={14} />, text: <>removed {them} from the workspace</> };
    case 'member.left':
      return { icon: <IconLogOut size={14} />, text: <>left the workspace</> };
    case 'member.sessions_ended':
      return { icon: <IconLogOut size={14} />, text: <>signed {them} out of every device</> };
    case 'invitation.created':
      return {
        icon: <IconMail size={14} />,
        text: (
          <>
            invited <V>{String(ch.email?.after ?? 'someone')}</V>
            {ch.role?.after ? (
              <>
                {' '}
                as <V>{roleWord(ch.role.after)}</V>
              </>
            ) : null}
          </>
        ),
      };
    case 'invitation.accepted':
      return {
        icon: <IconMail size={14} />,
        text: (
          <>
            accepted the invitation and joined{ch.role?.after ? <> as <V>{roleWord(ch.role.after)}</V></> : null}
          </>
        ),
      };
    case 'invitation.resent':
      return { icon: <IconMail size={14} />, text: <>resent an invitation</> };
    case 'invitation.revoked':
      return { icon: <IconMail size={14} />, text: <>cancelled an invitation</> };
    case 'ownership.transfer_proposed':
      return { icon: <IconCrown size={14} />, text: <>offered ownership of the workspace to {them}</> };
    case 'ownership.transferred':
      return { icon: <IconCrown size={14} />, text: <>accepted ownership of the workspace</> };
    case 'ownership.transfer_cancelled':
      return { icon: <IconCrown size={14} />, text: <>cancelled an ownership transfer</> };
    case 'workspace.created':
      return { icon: <IconSettings size={14} />, text: <>created the workspace</> };
    case 'workspace.updated': {
      const keys = Object.keys(ch).map((k) => FIELD[k] ?? k.replace(/_/g, ' '));
      return {
        icon: <IconSettings size={14} />,
        text: keys.length ? <>changed the workspace's {keys.join(', ')}</> : <>updated the workspace settings</>,
      };
    }
    case 'notifications.updated':
    case 'notifications.reset':
      return { icon: <IconSettings size={14} />, text: <>changed their notification preferences</> };
    default:
      if (e.action.startsWith('subaccount.')) {
        const verb = e.action.slice('subaccount.'.length).replace(/_/g, ' ');
        return {
          icon: <IconSettings size={14} />,
          text: ch.name?.after ? <>{verb} the sub-account <V>{String(ch.name.after)}</V></> : <>{verb} a sub-account</>,
        };
      }
      return { icon: <IconActivity size={14} />, text: <>“{e.action.replace(/[._]/g, ' ')}”</> };
  }
}

export function MemberActivity({
  wsId,
  member,
  inviterName,
  onClose,
}: {
  wsId: string;
  member: Member | null;
  /** The name of whoever invited them, when known. */
  inviterName?: string;
  onClose: () => void;
}) {
  const [items, setItems] = useState<MemberEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!member) return;
    const ctl = new AbortController();
    setItems(null);
    setError(null);
    teamApi
      .activity(wsId, member.id, ctl.signal)
      .then((r) => setItems(r.items))
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      });
    return () => ctl.abort();
  }, [member?.id, attempt]);

  if (!member) return null;
  const name = member.user.name || member.user.email;
  const actor = (e: MemberEvent) =>
    e.actor.id === member.user.id ? name : e.actor.name || e.actor.label || (e.actor.type === 'system' ? 'Atrium' : 'Someone');

  return (
    <Dialog
      open
      onClose={onClose}
      variant="side"
      title={name}
      closeLabel="Close activity"
      headerStart={<MemberAvatar user={member.user} size="lg" />}
      description={
        <span class="drawer-sub">
          <span class="drawer-email">{member.user.email}</span>
          <span class="drawer-badges">
            <RoleBadge role={member.role} />
            <MemberStatus member={member} />
          </span>
        </span>
      }
    >
      <dl class="member-facts">
        <div>
          <dt>Joined</dt>
          <dd>
            <time dateTime={member.joined_at} title={formatFull(member.joined_at)}>
              {formatDateTime(member.joined_at)}
            </time>
            {inviterName && <span class="muted"> · invited by {inviterName}</span>}
          </dd>
        </div>
        <div>
          <dt>Last active</dt>
          <dd>
            {member.last_active_at ? (
              <time dateTime={member.last_active_at} title={formatFull(member.last_active_at)}>
                {formatRelative(member.last_active_at)}
              </time>
            ) : (
              'Not yet'
            )}
          </dd>
        </div>
        <div>
          <dt>Last 30 days</dt>
          <dd>
            {member.usage.actions_30d} {member.usage.actions_30d === 1 ? 'action' : 'actions'} ·{' '}
            {member.usage.open_sessions} open {member.usage.open_sessions === 1 ? 'session' : 'sessions'}
          </dd>
        </div>
      </dl>
      <h3 class="drawer-section-title">Activity in this workspace</h3>
      {error ? (
        <ErrorState error={error} title="Couldn't load the activity" onRetry={() => setAttempt((a) => a + 1)} />
      ) : !items ? (
        <div class="card-loading">
          <Spinner label="Loading activity" />
        </div>
      ) : items.length === 0 ? (
        <EmptyState icon={<IconActivity size={20} />} title="Nothing recorded yet">
          Changes {name} makes here, and changes to their membership, will show up in this timeline.
        </EmptyState>
      ) : (
        <ol class="timeline" aria-label={`Activity of ${name}`}>
          {items.map((e) => {
            const line = describeMemberEvent(e, member);
            return (
              <li key={e.id} class="timeline-item" data-action={e.action}>
                <span class="timeline-icon" aria-hidden="true">
                  {line.icon}
                </span>
                <div class="timeline-body">
                  <p class="timeline-text">
                    <strong>{actor(e)}</strong> {line.text}
                  </p>
                  <time class="timeline-time" dateTime={e.created_at} title={formatFull(e.created_at)}>
                    {formatDateTime(e.created_at)} · {formatRelative(e.created_at)}
                  </time>
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Dialog>
  );
}
