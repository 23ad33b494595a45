// The API Keys API: the scope list, a workspace's keys (list, create, revoke, rotate) and its key
// policy. Shapes follow src/api/apikeys.c and docs/openapi.yaml (ApiKey, ApiKeyCreate, ApiKeyPolicy).
import { request } from './api';

export type KeyStatus = 'active' | 'expiring' | 'revoked' | 'expired';

export interface Scope {
  /** e.g. "team:read". */
  id: string;
  section: string;
  access: 'read' | 'write';
  description: string;
}

export interface ApiKey {
  id: string;
  name: string;
  /** The first 12 characters of the secret ("atr_" and 8 more). */
  prefix: string;
  scopes: string[];
  owner: { type: 'workspace' } | { type: 'member'; user: { id: string; name: string | null; email: string | null } };
  created_by: { id: string; name: string };
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** The last distinct client addresses, newest first (at most 5). */
  last_used_ips: string[];
  status: KeyStatus;
  allowed_cidrs: string[];
  rotated_to: string | null;
}

export interface KeyPolicy {
  max_days: number;
  default_days: number;
  allow_never: boolean;
}

export interface CreateKeyBody {
  name: string;
  scopes: string[];
  expires_in_days?: number;
  never_expires?: boolean;
  allowed_cidrs?: string[];
  owner: 'workspace' | 'me';
}

/** 201 of create and rotate: the key and its secret, shown this once. */
export interface KeyWithSecret {
  key: ApiKey;
  secret: string;
}

const keys = (ws: string) => `/workspaces/${encodeURIComponent(ws)}/api-keys`;
const key = (ws: string, id: string) => `${keys(ws)}/${encodeURIComponent(id)}`;

let scopesOnce: Promise<Scope[]> | null = null;

export const apiKeysApi = {
  /** Every scope (the list is the same for everyone and never changes while the app runs). */
  scopes: (): Promise<Scope[]> => {
    if (!scopesOnce)
      scopesOnce = request<{ items: Scope[] }>('GET', '/scopes').then(
        (r) => r.items,
        (e) => {
          scopesOnce = null;
          throw e;
        },
      );
    return scopesOnce;
  },
  list: (ws: string, signal?: AbortSignal) => request<{ items: ApiKey[] }>('GET', keys(ws), { signal }),
  create: (ws: string, body: CreateKeyBody) => request<KeyWithSecret>('POST', keys(ws), { body }),
  revoke: (ws: string, id: string) => request<void>('DELETE', key(ws, id)),
  rotate: (ws: string, id: string, overlap_hours: number) =>
    request<KeyWithSecret>('POST', `${key(ws, id)}/rotate`, { body: { overlap_hours } }),
  policy: (ws: string, signal?: AbortSignal) =>
    request<KeyPolicy>('GET', `/workspaces/${encodeURIComponent(ws)}/api-key-policy`, { signal }),
  patchPolicy: (ws: string, patch: Partial<KeyPolicy>) =>
    request<KeyPolicy>('PATCH', `/workspaces/${encodeURIComponent(ws)}/api-key-policy`, { body: patch }),
};

/** A live key: it still authenticates (active, or rotated and inside its overlap window). */
export function isLive(k: ApiKey): boolean {
  return k.status === 'active' || k.status === 'expiring';
}
