// The Team API (members, invitations, seats, ownership transfer, leaving) and the public routes people
// reach from mail (invitation links, password reset). Shapes follow src/api/team.c and
// src/api/invitations.c.
import { ApiError, request, setCsrfToken, type AuditEvent, type Me, type Role } from './api';

export type MemberStatus = 'active' | 'deactivated';

export interface Member {
  id: string;
  user: { id: string; name: string; email: string; avatar_url: string | null; disabled: boolean };
  role: Role;
  status: MemberStatus;
  joined_at: string;
  last_active_at: string | null;
  /** The user id of whoever invited them, when known. */
  invited_by: string | null;
  usage: { actions_30d: number; open_sessions: number };
}

/**
 * The seat picture of the members list. In a sub-account billed by its agency the agency's pool is
 * not shown: `limit` and `available` are null, the counts are the sub-account's own, `full` says
 * whether the pool has a seat left, and `provided_by` names the agency.
 */
export interface Seats {
  limit: number | null;
  used: number;
  available: number | null;
  active_members: number;
  pending_invitations: number;
  full: boolean;
  provided_by: { id: string; name: string } | null;
}

export interface OwnershipTransfer {
  id: string;
  from: { id: string; name: string };
  to: { id: string; name: string };
  created_at: string;
}

export interface MemberPage {
  items: Member[];
  total: number;
  next_cursor: string | null;
  seats: Seats;
  ownership_transfer: OwnershipTransfer | null;
}

export interface MemberQuery {
  q?: string;
  role?: string;
  status?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
}

export type InvitationStatus = 'pending' | 'expired' | 'accepted' | 'revoked';

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  expires_at: string;
  sent_at: string;
  resend_count: number;
  created_at: string;
  message: string | null;
  inviter: { id: string; name: string; email: string };
}

export type InviteErrorCode = 'invalid_email' | 'duplicate' | 'already_member' | 'already_invited' | 'seats_full' | string;

export interface InviteResult {
  email: string;
  status: 'invited' | 'error';
  invitation?: Invitation;
  error?: { code: InviteErrorCode; message: string };
}

export interface MemberEvent extends Omit<AuditEvent, 'actor'> {
  actor: { type: string; id: string | null; label: string | null; name?: string | null };
}

/** GET /invitations/{token}: what the person holding the link may see. */
export interface PublicInvitation {
  workspace: { id: string; name: string };
  inviter: { name: string };
  role: Role;
  email: string;
  status: InvitationStatus;
  expires_at: string;
  message: string | null;
}

/** 201 of accepting as a new person: the account and its session. */
export interface AcceptedNew extends Me {
  workspace_id: string;
}

export const PROBLEM = (slug: string) => `urn:atrium:problem:${slug}`;

function qs(params: object): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
}

const ws = (id: string) => `/workspaces/${encodeURIComponent(id)}`;
const mem = (wsId: string, id: string) => `${ws(wsId)}/members/${encodeURIComponent(id)}`;

export const teamApi = {
  members: (wsId: string, q: MemberQuery, signal?: AbortSignal) =>
    request<MemberPage>('GET', `${ws(wsId)}/members${qs(q)}`, { signal }),
  setRole: (wsId: string, id: string, role: Role) => request<Member>('PATCH', mem(wsId, id), { body: { role } }),
  remove: (wsId: string, id: string) => request<void>('DELETE', mem(wsId, id)),
  deactivate: (wsId: string, id: string) => request<Member>('POST', `${mem(wsId, id)}/deactivate`),
  reactivate: (wsId: string, id: string) => request<Member>('POST', `${mem(wsId, id)}/reactivate`),
  endSessions: (wsId: string, id: string) => request<{ ended: number }>('POST', `${mem(wsId, id)}/end-sessions`),
  activity: (wsId: string, id: string, signal?: AbortSignal) =>
    request<{ items: MemberEvent[] }>('GET', `${mem(wsId, id)}/activity?limit=100`, { signal }),

  invitations: (wsId: string, status: string, signal?: AbortSignal) =>
    request<{ items: Invitation[] }>('GET', `${ws(wsId)}/invitations${qs({ status })}`, { signal }),
  /**
   * Invites a list. With one address the server answers a refusal as a 4xx problem; that is turned
   * into the same per-address result a list gets, so the dialog has one shape to show.
   */
  invite: async (wsId: string, emails: string[], role: Role, message?: string): Promise<InviteResult[]> => {
    try {
      const r = await request<{ results: InviteResult[] }>('POST', `${ws(wsId)}/invitations`, {
        body: { emails, role, ...(message ? { message } : {}) },
      });
      return r.results;
    } catch (e) {
      if (emails.length === 1 && e instanceof ApiError && (e.status === 400 || e.status === 409)) {
        const first = e.errors.find((x) => x.field.startsWith('emails'));
        if (first || e.status === 409)
          return [
            {
              email: emails[0],
              status: 'error',
              error: {
                code: first?.code && /^[a-z_]+$/.test(first.code) ? first.code : e.type.replace(/^urn:atrium:problem:/, ''),
                message: first?.message || e.detail || "This address couldn't be invited.",
              },
            },
          ];
      }
      throw e;
    }
  },
  resend: (wsId: string, id: string) =>
    request<Invitation>('POST', `${ws(wsId)}/invitations/${encodeURIComponent(id)}/resend`),
  revoke: (wsId: string, id: string) => request<void>('DELETE', `${ws(wsId)}/invitations/${encodeURIComponent(id)}`),

  proposeTransfer: (wsId: string, member_id: string) =>
    request<OwnershipTransfer>('POST', `${ws(wsId)}/ownership-transfer`, { body: { member_id } }),
  acceptTransfer: (wsId: string) => request<{ status: string }>('POST', `${ws(wsId)}/ownership-transfer/accept`),
  cancelTransfer: (wsId: string) => request<void>('DELETE', `${ws(wsId)}/ownership-transfer`),
  leave: (wsId: string) => request<void>('POST', `${ws(wsId)}/leave`),
};

export const publicApi = {
  invitation: (token: string) =>
    request<PublicInvitation>('GET', `/invitations/${encodeURIComponent(token)}`, { quiet401: true }),
  /** Signed in: joins with the current account. */
  acceptSignedIn: (token: string) =>
    request<{ workspace_id: string }>('POST', `/invitations/${encodeURIComponent(token)}/accept`, { body: {} }),
  /** Signed out: creates the account, joins, and signs in (the session cookie comes with the answer). */
  acceptNew: async (token: string, name: string, password: string) => {
    const r = await request<AcceptedNew>('POST', `/invitations/${encodeURIComponent(token)}/accept`, {
      body: { name, password },
      quiet401: true,
    });
    setCsrfToken(r.csrf_token);
    return r;
  },
  forgot: (email: string) => request<{ message: string }>('POST', '/password/forgot', { body: { email }, quiet401: true }),
  reset: (token: string, password: string) =>
    request<void>('POST', '/password/reset', { body: { token, password }, quiet401: true }),
};

export const ROLE_RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

export const ROLE_INFO: Record<Role, { label: string; summary: string }> = {
  owner: {
    label: 'Owner',
    summary: 'Everything an admin can do, plus billing, ownership and deleting the workspace.',
  },
  admin: {
    label: 'Admin',
    summary: 'Manages the team, settings, integrations and API keys. Cannot manage owners.',
  },
  member: {
    label: 'Member',
    summary: 'Uses the workspace and manages their own profile and notifications.',
  },
};
