import { useEffect, useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { WorkspaceSummary } from '../api';
import { navigate, useLocation } from '../router';
import { Badge, IconChevronsUpDown, IconLayers, IconTick, SearchInput, Spinner, useToast } from '../ui';
import {
  findWorkspace,
  firstSectionPath,
  parseWorkspacePath,
  ROLE_LABEL,
  useWorkspaces,
  workspaceName,
  workspacePath,
} from '../workspace';
import { WorkspaceTile } from './WorkspaceTile';

/** Status words for a workspace that is not active. */
export function statusBadge(status: string) {
  if (status === 'suspended')
    return (
      <Badge tone="warning" dot>
        Suspended
      </Badge>
    );
  if (status === 'pending_deletion')
    return (
      <Badge tone="danger" dot>
        Pending deletion
      </Badge>
    );
  return null;
}

function matches(w: WorkspaceSummary, q: string): boolean {
  const t = q.trim().toLowerCase();
  if (!t) return true;
  return [w.name, w.display_name ?? '', w.slug].some((s) => s.toLowerCase().includes(t));
}

/**
 * The workspace switcher in the top bar: a button naming the current workspace that opens a list of
 * every workspace the user reaches: roots, each followed by its sub-accounts (indented), with the
 * role, "Agency access" where they act through the agency, and suspended / pending-deletion
 * badges. Keyboard: ↑/↓, Home/End move; Enter picks; typing filters (when the list is long); Esc
 * closes and returns focus to the button.
 */
export function WorkspaceSwitcher({ currentId }: { currentId: string | null }) {
  const { workspaces, loadSections, remember } = useWorkspaces();
  const { path } = useLocation();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [switching, setSwitching] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const id = useId();

  const items = workspaces.status === 'ready' ? workspaces.items : [];
  const current = findWorkspace(workspaces, currentId);
  const parent = current?.parent_id ? findWorkspace(workspaces, current.parent_id) : undefined;
  const searchable = items.length > 6;
  const shown = items.filter((w) => matches(w, query));

  const close = (refocus = true) => {
    setOpen(false);
    setQuery('');
    if (refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (!open) return;
    const opts = options(list.current);
    const selected = opts.find((o) => o.getAttribute('aria-selected') === 'true');
    if (searchable) search.current?.focus();
    else (selected ?? opts[0])?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) close(false);
    };
    const onFocus = (e: FocusEvent) => {
      if (root.current && e.target instanceof Node && !root.current.contains(e.target)) close(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('focusin', onFocus);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('focusin', onFocus);
    };
  }, [open]);

  const choose = async (w: WorkspaceSummary) => {
    if (switching) return;
    const here = parseWorkspacePath(path);
    if (w.id === currentId && here.wsId) {
      close();
      return;
    }
    setSwitching(w.id);
    const s = await loadSections(w.id);
    setSwitching(null);
    close(false);
    remember(w.id);
    if (s.status === 'ready') {
      // Stay on the same page when the other workspace has it; else open its first page.
      const same = here.section && s.data.items.some((x) => x.id === here.section && x.id !== 'profile');
      navigate(same ? workspacePath(w.id, here.section!) : firstSectionPath(w.id, s.data));
    } else if (s.status === 'error') {
      toast({ tone: 'danger', title: `Couldn't open ${workspaceName(w)}`, description: 'Check your connection and try again.' });
    } else {
      navigate(workspacePath(w.id));
    }
  };

  const onListKey = (e: KeyboardEvent) => {
    const opts = options(list.current);
    const i = opts.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      if (n < 0 && searchable) {
        search.current?.focus();
        return;
      }
      opts[Math.max(0, Math.min(opts.length - 1, n))]?.focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(opts.length - 1);
    else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      const w = shown.find((x) => x.id === (document.activeElement as HTMLElement)?.dataset.workspaceId);
      if (w) void choose(w);
    } else if (searchable && e.key.length === 1 && /\S/.test(e.key) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      search.current?.focus();
    } else if (!searchable && e.key.length === 1 && /\S/.test(e.key)) {
      const k = e.key.toLowerCase();
      const order = [...opts.slice(i + 1), ...opts.slice(0, i + 1)];
      const hit = order.find((el) => (el.dataset.name ?? '').toLowerCase().startsWith(k));
      if (hit) {
        e.preventDefault();
        hit.focus();
      }
    }
  };

  const onPanelKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      close(false);
    }
  };

  if (workspaces.status === 'loading') {
    return (
      <div class="switcher">
        <span class="switcher-button is-loading" aria-hidden="true">
          <span class="ws-tile ws-tile-skeleton" />
          <span class="skeleton skeleton-text" />
        </span>
      </div>
    );
  }
  if (items.length === 0) return null;

  const manageRoot = items.find((w) => w.kind === 'root' && (w.role === 'owner' || w.role === 'admin'));

  return (
    <div class="switcher" ref={root} onKeyDown={onPanelKey}>
      <button
        ref={button}
        type="button"
        class="switcher-button"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        data-testid="workspace-switcher"
        onClick={() => (open ? close() : setOpen(true))}
        onKeyDown={(e) => {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        {current ? <WorkspaceTile workspace={current} /> : <span class="ws-tile ws-tile-skeleton" />}
        <span class="switcher-text">
          <span class="switcher-name">{current ? workspaceName(current) : 'Choose a workspace'}</span>
          {current && (
            <span class="switcher-sub">
              {current.kind === 'sub_account'
                ? parent
                  ? `Sub-account of ${workspaceName(parent)}`
                  : `Sub-account · ${ROLE_LABEL[current.role] ?? current.role}`
                : `${ROLE_LABEL[current.role] ?? current.role} · Workspace`}
            </span>
          )}
        </span>
        <span class="visually-hidden">, switch workspace</span>
        <IconChevronsUpDown size={16} />
      </button>
      <div id={`${id}-panel`} class="switcher-panel" hidden={!open}>
        <div class="switcher-head">
          <p class="switcher-title" id={`${id}-title`}>
            Switch workspace
          </p>
          {searchable && (
            <SearchInput
              ref={search}
              label="Find a workspace"
              placeholder="Find a workspace…"
              value={query}
              onValue={setQuery}
              onKeyDown={(e) => {
                if (e.key === 'ArrowDown') {
                  e.preventDefault();
                  options(list.current)[0]?.focus();
                } else if (e.key === 'Enter' && shown.length > 0) {
                  e.preventDefault();
                  void choose(shown[0]);
                }
              }}
            />
          )}
        </div>
        {open && (
          <ul
            ref={list}
            class="switcher-list"
            role="listbox"
            aria-labelledby={`${id}-title`}
            onKeyDown={onListKey}
          >
            {shown.map((w, i) => {
              const selected = w.id === currentId;
              const nested = w.kind === 'sub_account' && items.some((r) => r.id === w.parent_id);
              const nextSibling = shown[i + 1]?.kind === 'sub_account' && shown[i + 1]?.parent_id === w.parent_id;
              return (
                <li
                  key={w.id}
                  role="option"
                  tabIndex={-1}
                  aria-selected={selected}
                  aria-busy={switching === w.id || undefined}
                  data-workspace-id={w.id}
                  data-name={workspaceName(w)}
                  class={['switcher-option', nested && 'is-nested', nested && nextSibling && 'has-next', selected && 'is-selected']
                    .filter(Boolean)
                    .join(' ')}
                  onClick={() => void choose(w)}
                >
                  {nested && <span class="switcher-branch" aria-hidden="true" />}
                  <WorkspaceTile workspace={w} size={nested ? 'sm' : 'md'} />
                  <span class="switcher-option-text">
                    <span class="switcher-option-name">{workspaceName(w)}</span>
                    <span class="switcher-option-meta">
                      <Badge tone={w.role === 'member' ? 'neutral' : 'accent'}>{ROLE_LABEL[w.role] ?? w.role}</Badge>
                      {w.agency && (
                        <span class="agency-marker">
                          <IconLayers size={12} />
                          Agency access
                        </span>
                      )}
                      {statusBadge(w.status)}
                    </span>
                  </span>
                  <span class="switcher-check" aria-hidden="true">
                    {switching === w.id ? <Spinner size={16} /> : selected ? <IconTick size={16} /> : null}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
        {open && shown.length === 0 && <p class="switcher-empty">No workspace matches “{query}”.</p>}
        {manageRoot && (
          <div class="switcher-foot">
            <a
              href={workspacePath(manageRoot.id, 'subaccounts')}
              class="switcher-foot-link"
              onClick={(e) => {
                e.preventDefault();
                close(false);
                remember(manageRoot.id);
                navigate(workspacePath(manageRoot.id, 'subaccounts'));
              }}
            >
              <IconLayers size={16} />
              Manage sub-accounts
            </a>
          </div>
        )}
      </div>
    </div>
  );
}

function options(root: HTMLElement | null): HTMLElement[] {
  return root ? Array.from(root.querySelectorAll<HTMLElement>('[role="option"]')) : [];
}
