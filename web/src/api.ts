// The Atrium JSON API client. Every call goes through request(): same-origin cookies, JSON bodies,
// the CSRF token on every non-GET request, and RFC 9457 problem+json errors turned into ApiError.

export interface User {
  id: string;
  email: string;
  name: string;
  developer: boolean;
  created_at: string;
}

export interface SessionInfo {
  id: string;
  expires_at: string;
}

/** Body of POST /session, POST /signup and GET /me. */
export interface Me {
  user: User;
  csrf_token: string;
  session: SessionInfo;
}

export interface AuthOptions {
  signup_enabled: boolean;
  password_min_length: number;
}

export interface UserSession {
  id: string;
  current: boolean;
  user_agent: string;
  ip: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}

/** A failed API call: an HTTP error answer (problem+json when the server sent one) or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors: FieldError[];
  /** Seconds from a Retry-After header (429, 503), when present. */
  readonly retryAfter?: number;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.type = problem.type ?? 'about:blank';
    this.title = problem.title ?? defaultTitle(status);
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors.filter(isFieldError) : [];
    this.retryAfter = retryAfter;
  }

  /** The first error for a field, if the server named it. */
  fieldError(field: string): FieldError | undefined {
    return this.errors.find((e) => e.field === field);
  }
}

function isFieldError(e: unknown): e is FieldError {
  return typeof e === 'object' && e !== null && typeof (e as FieldError).field === 'string';
}

function defaultTitle(status: number): string {
  if (status === 0) return "Can't reach Atrium";
  if (status === 400) return 'Check the highlighted fields';
  if (status === 401) return 'Not signed in';
  if (status === 403) return "You don't have access to this";
  if (status === 404) return 'Not found';
  if (status === 409) return 'Conflict';
  if (status === 429) return 'Too many requests';
  if (status >= 500) return 'Something went wrong on our side';
  return `Request failed (${status})`;
}

/** Parses Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return parseInt(trimmed, 10);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

// ---- CSRF token and the "signed out" signal, kept in memory only ------------------------------------

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called when an authenticated request answers 401 (the session expired or was ended elsewhere). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

type ProblemListener = (path: string, error: ApiError) => void;
const problemListeners = new Set<ProblemListener>();

/** Called with every failed API answer (e.g. to notice a workspace that was just suspended). */
export function onProblem(listener: ProblemListener): () => void {
  problemListeners.add(listener);
  return () => problemListeners.delete(listener);
}

// ---- The request primitive -----------------------------------------------------------------------

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A body sent as it is (an uploaded file) with its own Content-Type, instead of JSON. */
  raw?: { body: Blob; type: string };
  /** Don't broadcast a 401 (sign-in and the initial /me probe answer 401 by design). */
  quiet401?: boolean;
  /** Sees the successful response before its body is read (e.g. to read the ETag header). */
  onResponse?: (res: Response) => void;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
  let body: string | Blob | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.raw) {
    headers['Content-Type'] = opts.raw.type;
    body = opts.raw.body;
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, {
      title: "Can't reach Atrium",
      detail: 'Check your connection and try again.',
    });
  }

  if (res.ok) {
    opts.onResponse?.(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  let problem: Problem = {};
  const type = res.headers.get('Content-Type') ?? '';
  if (type.includes('json')) {
    try {
      problem = (await res.json()) as Problem;
    } catch {
      problem = {};
    }
  }
  const error = new ApiError(res.status, problem, parseRetryAfter(res.headers.get('Retry-After')));
  if (res.status === 401 && !opts.quiet401) {
    csrfToken = null;
    unauthorizedListeners.forEach((l) => l());
  }
  problemListeners.forEach((l) => l(path, error));
  throw error;
}

function remember(me: Me): Me {
  setCsrfToken(me.csrf_token);
  return me;
}

// ---- Endpoints -----------------------------------------------------------------------------------

export const api = {
  authOptions: () => request<AuthOptions>('GET', '/auth/options', { quiet401: true }),

  signIn: async (email: string, password: string) =>
    remember(await request<Me>('POST', '/session', { body: { email, password }, quiet401: true })),

  signUp: async (name: string, email: string, password: string) =>
    remember(await request<Me>('POST', '/signup', { body: { name, email, password }, quiet401: true })),

  me: async () => remember(await request<Me>('GET', '/me', { quiet401: true })),

  signOut: async () => {
    try {
      await request<void>('DELETE', '/session', { quiet401: true });
    } finally {
      setCsrfToken(null);
    }
  },

  sessions: () => request<{ items: UserSession[] }>('GET', '/me/sessions'),

  endSession: (id: string) => request<void>('DELETE', `/me/sessions/${encodeURIComponent(id)}`),

  endOtherSessions: () => request<{ ended: number }>('DELETE', '/me/sessions'),

  changePassword: (current_password: string, new_password: string) =>
    request<void>('POST', '/me/password', { body: { current_password, new_password } }),
};

// ---- Workspaces, sections, settings, sub-accounts, profile, notifications, activity ---------------

export type WorkspaceKind = 'root' | 'sub_account';
export type WorkspaceStatus = 'active' | 'suspended' | 'pending_deletion';
export type Role = 'owner' | 'admin' | 'member';

/** One row of the switcher (GET /workspaces). */
export interface WorkspaceSummary {
  id: string;
  kind: WorkspaceKind;
  parent_id: string | null;
  name: string;
  display_name: string | null;
  slug: string;
  status: WorkspaceStatus;
  role: Role;
  /** True when the caller reaches this sub-account as an owner/admin of its root (not as a member). */
  agency: boolean;
}

export interface Section {
  id: string;
  title: string;
  access: 'read' | 'write';
}

export interface Sections {
  items: Section[];
  role: Role;
  kind: WorkspaceKind;
  agency: boolean;
  /** A pending ownership transfer offered to the caller, if any. */
  ownership_offer?: { id: string; from: { id: string; name: string }; to: { id: string; name: string }; created_at: string } | null;
  /** Built sections the caller cannot open here, each with why (never a role problem for a plan matter). */
  unavailable?: UnavailableSection[];
  /** For owners and admins while the subscription covering the workspace is past due or unpaid. */
  billing_alert?: BillingAlert | null;
}

/** Every open invoice past its due date, oldest first, and their total (minor units). */
export interface Overdue {
  total: number;
  invoices: { id: string; number: string | null; amount_due: number; due_at: string | null }[];
}

export interface UnavailableSection {
  id: string;
  title: string;
  /** role: below the section's role; kind: not in this kind of workspace; plan: not on the plan; payment: the plan has it but the subscription is unpaid. */
  reason: 'role' | 'kind' | 'plan' | 'payment';
  feature?: string;
  plans?: { id: string; name: string }[];
  plan?: { id: string | null; name: string | null } | null;
  overdue?: Overdue;
}

export interface BillingAlert {
  status: 'past_due' | 'unpaid';
  billed_by_agency: boolean;
  currency: string;
  overdue: Overdue | null;
}

export interface ChecklistItem {
  id: string;
  label: string;
  field: string;
  done: boolean;
}

export interface WorkspaceContext {
  kind: WorkspaceKind;
  member_count: number;
  agency_access: boolean;
  subaccount_count?: number;
  parent?: { id: string; name: string; display_name: string | null };
  managed_by?: { name: string; email: string; role: Role }[];
}

/** The fields Workspace Settings edits (PATCH merge: null clears). */
export interface WorkspaceFields {
  name: string;
  display_name: string | null;
  slug: string;
  logo_url: string | null;
  timezone: string | null;
  locale: string | null;
  currency: string | null;
  legal_name: string | null;
  business_type: string | null;
  industry: string | null;
  country: string | null;
  address: string | null;
  phone: string | null;
  website: string | null;
  tax_id: string | null;
}

export interface WorkspaceDoc extends WorkspaceFields {
  id: string;
  kind: WorkspaceKind;
  parent_id: string | null;
  status: WorkspaceStatus;
  status_reason: string | null;
  deletion_due_at: string | null;
  created_at: string;
  updated_at: string;
  context: WorkspaceContext;
  checklist: ChecklistItem[];
}

export interface SubAccount {
  id: string;
  name: string;
  display_name: string | null;
  slug: string;
  status: WorkspaceStatus;
  status_reason: string | null;
  deletion_due_at: string | null;
  created_at: string;
  updated_at: string;
  member_count: number;
  timezone: string | null;
  /** Who pays for it: its agency (`parent`) or its own subscription (`own`). */
  billing_mode: 'parent' | 'own';
}

export interface SubAccountQuery {
  q?: string;
  sort?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  total?: number;
  next_cursor: string | null;
}

export interface Profile {
  id: string;
  email: string;
  name: string;
  avatar_url: string | null;
  timezone: string | null;
  locale: string | null;
  developer: boolean;
  created_at: string;
  /** An email change waiting for the link mailed to the new address, or null. */
  pending_email: { email: string; expires_at: string } | null;
}

export interface NotificationGroup {
  id: string;
  title: string;
  description: string;
  locked: boolean;
  email: boolean;
  in_app: boolean;
}

export interface AuditEvent {
  id: string;
  seq: number;
  action: string;
  /** label: what the event stored (an address or key name); name: the person's current name. */
  actor: { type: string; id: string | null; label: string | null; name?: string | null };
  workspace_id?: string;
  target: { type: string | null; id: string | null };
  changes: Record<string, { before: unknown; after: unknown }>;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** A settings document with its ETag. */
export interface Versioned<T> {
  doc: T;
  etag: string;
}

/** Problem types the UI reacts to. */
export const PROBLEM_SUSPENDED = 'urn:atrium:problem:workspace-suspended';

function qs(params: object): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
}

const ws = (id: string) => `/workspaces/${encodeURIComponent(id)}`;

/** GET/PATCH of a document that carries an ETag (the ETag header is read alongside the body). */
async function versioned<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Versioned<T>> {
  let etag = '';
  const doc = await request<T>(method, path, { ...opts, onResponse: (res) => (etag = res.headers.get('ETag') ?? '') });
  return { doc, etag };
}

export const workspacesApi = {
  list: () => request<{ items: WorkspaceSummary[] }>('GET', '/workspaces'),
  sections: (id: string, signal?: AbortSignal) => request<Sections>('GET', `${ws(id)}/sections`, { signal }),
  get: (id: string) => versioned<WorkspaceDoc>('GET', ws(id)),
  patch: (id: string, etag: string, patch: Partial<WorkspaceFields>) =>
    versioned<WorkspaceDoc>('PATCH', ws(id), { body: patch, headers: { 'If-Match': etag } }),

  subaccounts: (root: string, q: SubAccountQuery, signal?: AbortSignal) =>
    request<Page<SubAccount> & { total: number }>('GET', `${ws(root)}/subaccounts${qs(q)}`, { signal }),
  createSubaccount: (
    root: string,
    body: { name: string; display_name?: string; slug?: string; timezone?: string; locale?: string; currency?: string },
  ) => request<SubAccount>('POST', `${ws(root)}/subaccounts`, { body }),
  renameSubaccount: (root: string, sub: string, body: { name?: string; display_name?: string | null }) =>
    request<SubAccount>('PATCH', `${ws(root)}/subaccounts/${encodeURIComponent(sub)}`, { body }),
  suspend: (root: string, sub: string, reason: string) =>
    request<SubAccount>('POST', `${ws(root)}/subaccounts/${encodeURIComponent(sub)}/suspend`, { body: { reason } }),
  reactivate: (root: string, sub: string) =>
    request<SubAccount>('POST', `${ws(root)}/subaccounts/${encodeURIComponent(sub)}/reactivate`),
  scheduleDeletion: (root: string, sub: string) =>
    request<SubAccount>('POST', `${ws(root)}/subaccounts/${encodeURIComponent(sub)}/schedule-deletion`),
  restore: (root: string, sub: string) =>
    request<SubAccount>('POST', `${ws(root)}/subaccounts/${encodeURIComponent(sub)}/restore`),
  setBillingMode: (root: string, sub: string, mode: 'parent' | 'own') =>
    request<{ workspace_id: string; billing_mode: 'parent' | 'own' }>(
      'PUT',
      `${ws(root)}/subaccounts/${encodeURIComponent(sub)}/billing`,
      { body: { mode } },
    ),

  notifications: (id: string) => request<{ groups: NotificationGroup[] }>('GET', `${ws(id)}/notifications`),
  patchNotifications: (id: string, groups: Record<string, { email?: boolean; in_app?: boolean }>) =>
    request<{ groups: NotificationGroup[] }>('PATCH', `${ws(id)}/notifications`, { body: { groups } }),
  resetNotifications: (id: string) => request<{ groups: NotificationGroup[] }>('POST', `${ws(id)}/notifications/reset`),

  activity: (id: string, q: AuditQuery, signal?: AbortSignal) =>
    request<Page<AuditEvent>>('GET', `${ws(id)}/audit-events${qs(q)}`, { signal }),
};

export const profileApi = {
  get: () => request<Profile>('GET', '/me/profile'),
  patch: (patch: Partial<Pick<Profile, 'name' | 'email' | 'avatar_url' | 'timezone' | 'locale'>> & { current_password?: string }) =>
    request<Profile>('PATCH', '/me/profile', { body: patch }),
  /** Uploads a picture (PNG, JPEG or WebP) and the square to keep, in the picture's pixels; the server
   * stores a 256×256 PNG it encodes itself and answers the profile with its new avatar_url. */
  uploadAvatar: (file: Blob, type: string, crop: { x: number; y: number; size: number }) =>
    request<Profile>('PUT', `/me/avatar?x=${crop.x}&y=${crop.y}&size=${crop.size}`, { raw: { body: file, type } }),
  removeAvatar: () => request<Profile>('DELETE', '/me/avatar'),
  /** Public: follows the link mailed to the new address of an email change. */
  confirmEmail: (token: string) => request<void>('POST', '/email-change/confirm', { body: { token }, quiet401: true }),
  /** Public: follows the undo link mailed to the old address. */
  undoEmail: (token: string) => request<void>('POST', '/email-change/undo', { body: { token }, quiet401: true }),
};
