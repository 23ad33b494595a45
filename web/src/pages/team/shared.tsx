// Pieces the Team page's tabs and dialogs share: avatars, role and status badges, how a refusal from
// the API reads, and the role rules in words.
import type { Role } from '../../api';
import { ApiError } from '../../api';
import { PROBLEM, ROLE_INFO, ROLE_RANK, type Member } from '../../api-team';
import { initials } from '../../lib/format';
import { Badge, IconCrown } from '../../ui';

export function MemberAvatar({ user, size }: { user: { name: string; email: string; avatar_url?: string | null }; size?: 'sm' | 'lg' }) {
  const cls = ['avatar', size && `avatar-${size}`].filter(Boolean).join(' ');
  if (user.avatar_url) return <img class={`${cls} avatar-img`} src={user.avatar_url} alt="" />;
  return (
    <span class={cls} aria-hidden="true">
      {initials(user.name, user.email)}
    </span>
  );
}

export function RoleBadge({ role }: { role: Role }) {
  if (role === 'owner')
    return (
      <Badge tone="accent">
        <IconCrown size={12} />
        Owner
      </Badge>
    );
  return <Badge tone="neutral">{ROLE_INFO[role]?.label ?? role}</Badge>;
}

export function MemberStatus({ member }: { member: Member }) {
  if (member.user.disabled)
    return (
      <Badge tone="danger" dot>
        Account disabled
      </Badge>
    );
  if (member.status === 'deactivated')
    return (
      <Badge tone="warning" dot>
        Deactivated
      </Badge>
    );
  return (
    <Badge tone="success" dot>
      Active
    </Badge>
  );
}

export function isProblem(e: unknown, slug: string): e is ApiError {
  return e instanceof ApiError && e.type === PROBLEM(slug);
}

/** What a refusal says, in the page's words where we know the case, else the server's. */
export function refusalText(e: unknown, ctx: { workspace: string }): { title: string; detail?: string } {
  if (isProblem(e, 'last-owner'))
    return {
      title: `${ctx.workspace} must keep an active owner`,
      detail: 'Make someone else an owner first, then try again.',
    };
  if (isProblem(e, 'role-rules'))
    return {
      title: "Your role doesn't allow this",
      detail: 'Only owners manage owners, and nobody can grant a role above their own.',
    };
  if (isProblem(e, 'seats-full'))
    return { title: 'All seats are in use', detail: 'Free a seat, or add seats in Billing, then try again.' };
  if (e instanceof ApiError) {
    if (e.status === 404) return { title: 'This person is no longer a member', detail: 'The list has been refreshed.' };
    return { title: e.title, detail: e.errors[0]?.message ?? e.detail };
  }
  return { title: 'Something went wrong', detail: 'Try again in a moment.' };
}

/** Why the caller can't grant `role`, or null when they can. */
export function whyNotGrant(role: Role, myRole: Role): string | null {
  if (ROLE_RANK[role] <= ROLE_RANK[myRole]) return null;
  if (role === 'owner') return 'Only owners can make someone an owner.';
  return `You can't grant a role above your own (${ROLE_INFO[myRole].label}).`;
}

/** May the caller (myRole) act on a member whose role is `role` at all (change, deactivate, remove)? */
export function mayManage(role: Role, myRole: Role): boolean {
  if (myRole === 'member') return false;
  if (role === 'owner') return myRole === 'owner';
  return true;
}

/** "you" for the signed-in user, else the person's first name. */
export function firstName(name: string, email: string): string {
  return name.trim().split(/\s+/)[0] || email;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
