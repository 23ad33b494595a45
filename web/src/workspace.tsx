// Which workspaces the signed-in user reaches (the switcher), the navigation of each (its sections),
// and which one is current. The current workspace is part of the URL (/w/{id}/settings/...); the
// last one visited is remembered per user in localStorage and used for "/" and the account pages.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, onProblem, PROBLEM_SUSPENDED, workspacesApi, type Sections, type WorkspaceSummary } from './api';
import { useLocation } from './router';
import { useSession } from './session';

export type SectionsState =
  | { status: 'loading' }
  | { status: 'ready'; data: Sections }
  /** 403 workspace-suspended: the caller's sub-account is suspended or pending deletion. */
  | { status: 'locked'; title: string; detail?: string }
  /** 404: no such workspace, or the caller cannot see it. */
  | { status: 'not-found' }
  | { status: 'error'; error: unknown };

export type WorkspacesState =
  | { status: 'loading' }
  | { status: 'ready'; items: WorkspaceSummary[] }
  | { status: 'error'; error: unknown };

interface WorkspaceContextValue {
  workspaces: WorkspacesState;
  reloadWorkspaces: () => Promise<void>;
  sections: Record<string, SectionsState>;
  /** Loads (or reloads) a workspace's sections; resolves with the new state. */
  loadSections: (id: string) => Promise<SectionsState>;
  remembered: string | null;
  remember: (id: string) => void;
}

const Ctx = createContext<WorkspaceContextValue | null>(null);

function storageKey(userId: string): string {
  return `atrium.workspace.${userId}`;
}

function readRemembered(userId: string): string | null {
  try {
    return window.localStorage.getItem(storageKey(userId));
  } catch {
    return null;
  }
}

export function sectionsStateOf(error: unknown): SectionsState {
  if (error instanceof ApiError && error.status === 403 && error.type === PROBLEM_SUSPENDED)
    return { status: 'locked', title: error.title, detail: error.detail };
  if (error instanceof ApiError && error.status === 404) return { status: 'not-found' };
  return { status: 'error', error };
}

export function WorkspaceProvider({ children }: { children: ComponentChildren }) {
  const { state } = useSession();
  const userId = state.status === 'signed-in' ? state.me.user.id : '';
  const [workspaces, setWorkspaces] = useState<WorkspacesState>({ status: 'loading' });
  const [sections, setSections] = useState<Record<string, SectionsState>>({});
  const [remembered, setRemembered] = useState<string | null>(() => (userId ? readRemembered(userId) : null));
  const inFlight = useRef(new Map<string, Promise<SectionsState>>());

  const reloadWorkspaces = useCallback(async () => {
    try {
      const r = await workspacesApi.list();
      setWorkspaces({ status: 'ready', items: r.items });
    } catch (error) {
      setWorkspaces((w) => (w.status === 'ready' ? w : { status: 'error', error }));
    }
  }, []);

  useEffect(() => {
    if (!userId) return;
    setWorkspaces({ status: 'loading' });
    setSections({});
    setRemembered(readRemembered(userId));
    void reloadWorkspaces();
  }, [userId]);

  const loadSections = useCallback((id: string) => {
    const pending = inFlight.current.get(id);
    if (pending) return pending;
    const p = workspacesApi
      .sections(id)
      .then((data): SectionsState => ({ status: 'ready', data }))
      .catch((e): SectionsState => sectionsStateOf(e))
      .then((s) => {
        inFlight.current.delete(id);
        setSections((all) => ({ ...all, [id]: s }));
        return s;
      });
    inFlight.current.set(id, p);
    return p;
  }, []);

  // A workspace call refused mid-session (the sub-account was just suspended, or the caller's role
  // changed): show the locked screen at once, or reload what the caller may now see.
  useEffect(
    () =>
      onProblem((path, error) => {
        const m = /^\/workspaces\/([^/?]+)(\/[^?]*)?/.exec(path);
        if (!m || m[2] === '/sections') return;
        const id = decodeURIComponent(m[1]);
        if (error.status === 403 && error.type === PROBLEM_SUSPENDED) {
          setSections((all) => ({ ...all, [id]: sectionsStateOf(error) }));
          void reloadWorkspaces();
        } else if (error.status === 403 || (error.status === 404 && !m[2])) {
          void loadSections(id);
        }
      }),
    [],
  );

  const remember = useCallback(
    (id: string) => {
      setRemembered(id);
      try {
        if (userId) window.localStorage.setItem(storageKey(userId), id);
      } catch {
        /* private mode: nothing to remember with */
      }
    },
    [userId],
  );

  const value = useMemo(
    () => ({ workspaces, reloadWorkspaces, sections, loadSections, remembered, remember }),
    [workspaces, sections, remembered, reloadWorkspaces, loadSections, remember],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useWorkspaces(): WorkspaceContextValue {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useWorkspaces outside WorkspaceProvider');
  return ctx;
}

/** The sections of a workspace: cached ones at once, revalidated whenever the workspace is entered. */
export function useSections(id: string | null): SectionsState {
  const { sections, loadSections } = useWorkspaces();
  useEffect(() => {
    if (id) void loadSections(id);
  }, [id]);
  if (!id) return { status: 'not-found' };
  return sections[id] ?? { status: 'loading' };
}

/** /w/{id}/settings/{section}[/{subpath}] → {wsId, section, subpath}; other paths → nulls. */
export function parseWorkspacePath(path: string): { wsId: string | null; section: string | null; subpath?: string } {
  const m = /^\/w\/([^/]+)(?:\/settings(?:\/([^/]+)(?:\/(.+?))?)?)?\/?$/.exec(path);
  if (!m) return { wsId: null, section: null };
  return { wsId: decodeURIComponent(m[1]), section: m[2] ? decodeURIComponent(m[2]) : null, subpath: m[3] || undefined };
}

export function workspacePath(id: string, section?: string): string {
  return section ? `/w/${encodeURIComponent(id)}/settings/${encodeURIComponent(section)}` : `/w/${encodeURIComponent(id)}`;
}

/**
 * The current workspace id: the one in the URL, else the remembered one (when the user still
 * reaches it), else the first they reach. Null while the list loads or when they reach none.
 */
export function useCurrentWorkspaceId(): string | null {
  const { path } = useLocation();
  const { workspaces, remembered } = useWorkspaces();
  const fromPath = parseWorkspacePath(path).wsId;
  if (fromPath) return fromPath;
  if (workspaces.status !== 'ready') return null;
  const items = workspaces.items;
  if (remembered && items.some((w) => w.id === remembered)) return remembered;
  return items.find((w) => w.status === 'active' || w.agency)?.id ?? items[0]?.id ?? null;
}

export function findWorkspace(workspaces: WorkspacesState, id: string | null): WorkspaceSummary | undefined {
  if (!id || workspaces.status !== 'ready') return undefined;
  return workspaces.items.find((w) => w.id === id);
}

/**
 * The name a workspace has everywhere inside Atrium: its name. The display name is for the
 * workspace's customers only, and the legal name for invoices (docs/guide/workspace.md, "Which name shows where").
 */
export function workspaceName(w: { name: string } | undefined): string {
  return w ? w.name : '';
}

/** The first page to open in a workspace: its first section other than Profile (an account page). */
export function firstSectionPath(id: string, data: Sections): string {
  const first = data.items.find((s) => s.id !== 'profile');
  return first ? workspacePath(id, first.id) : '/settings/profile';
}

export const ROLE_LABEL: Record<string, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };
