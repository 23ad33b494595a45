// A small client-side router on the History API. The server answers every extensionless non-/api
// path with index.html, so deep links and reloads land here.
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { discardUnsavedChanges, hasUnsavedChanges } from './lib/unsaved';

export interface Location {
  path: string;
  search: URLSearchParams;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let navigationCount = 0;

function current(): Location {
  return { path: normalise(window.location.pathname), search: new URLSearchParams(window.location.search) };
}

function normalise(path: string): string {
  if (path.length > 1 && path.endsWith('/')) return path.replace(/\/+$/, '') || '/';
  return path;
}

function notify(): void {
  navigationCount++;
  listeners.forEach((l) => l());
}

/** A navigation held back because a form has unsaved changes, until the user confirms or stays. */
export interface LeaveRequest {
  to: string;
  replace: boolean;
}
let leaveRequest: LeaveRequest | null = null;
const leaveListeners = new Set<Listener>();
let shownHref = window.location.pathname + window.location.search;

function holdLeave(req: LeaveRequest | null): void {
  leaveRequest = req;
  leaveListeners.forEach((l) => l());
}

window.addEventListener('popstate', () => {
  const target = window.location.pathname + window.location.search;
  if (hasUnsavedChanges() && target !== shownHref) {
    // Back or forward out of a form with edits: stay on the page (restore its address) and ask first.
    window.history.pushState(null, '', shownHref);
    holdLeave({ to: target, replace: false });
    return;
  }
  shownHref = target;
  notify();
});

/**
 * Goes to an in-app path (pushes a history entry unless replace is set). While a form has unsaved
 * changes the navigation waits for the user's answer (useLeaveRequest) unless `force` is set.
 */
export function navigate(to: string, opts: { replace?: boolean; force?: boolean } = {}): void {
  const here = window.location.pathname + window.location.search;
  if (to === here) return;
  if (!opts.force && hasUnsavedChanges()) {
    holdLeave({ to, replace: !!opts.replace });
    return;
  }
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  shownHref = window.location.pathname + window.location.search;
  window.scrollTo(0, 0);
  notify();
}

/** The navigation waiting for "Leave without saving?", with the two answers. */
export function useLeaveRequest(): { request: LeaveRequest | null; leave: () => void; stay: () => void } {
  const [request, setRequest] = useState(leaveRequest);
  useEffect(() => {
    const l = () => setRequest(leaveRequest);
    leaveListeners.add(l);
    return () => {
      leaveListeners.delete(l);
    };
  }, []);
  return {
    request,
    leave: () => {
      const r = leaveRequest;
      holdLeave(null);
      if (!r) return;
      discardUnsavedChanges();
      navigate(r.to, { replace: r.replace, force: true });
    },
    stay: () => holdLeave(null),
  };
}

/** True once the user has moved between pages in this tab (used to move focus to the new page). */
export function hasNavigated(): boolean {
  return navigationCount > 0;
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const l = () =>
      setLoc((prev) => {
        const next = current();
        return prev.path === next.path && prev.search.toString() === next.search.toString() ? prev : next;
      });
    listeners.add(l);
    // A child's effect may have navigated before this (parent) effect subscribed: catch up.
    l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return loc;
}

/** A safe in-app redirect target: a local absolute path, never another origin. */
export function safeNext(value: string | null | undefined, fallback = '/settings'): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return fallback;
  if (value.startsWith('/api/')) return fallback;
  return value;
}

type LinkProps = JSX.HTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

/** An <a> that navigates in-app on a plain click and behaves like a normal link otherwise. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  const handle = (e: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    if (onClick) (onClick as (ev: JSX.TargetedMouseEvent<HTMLAnchorElement>) => void)(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}

/** Redirects on mount (for routes that only forward somewhere else). */
export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true, force: true }), [to]);
  return null;
}
