// Unsaved changes: a form with edits registers here (useUnsavedChanges), so the router asks before an
// in-app navigation leaves it (router.tsx → the "Leave without saving?" dialog) and the browser asks
// before the tab closes or reloads (beforeunload).
import { useEffect, useRef } from 'preact/hooks';

const guards = new Set<{ dirty: boolean }>();

/** True while any mounted form has edits that are not saved. */
export function hasUnsavedChanges(): boolean {
  for (const g of guards) if (g.dirty) return true;
  return false;
}

/** Forgets every form's edits (the user chose to leave without saving). */
export function discardUnsavedChanges(): void {
  for (const g of guards) g.dirty = false;
}

// One listener for the tab, asking only while some form has edits at the moment it fires.
window.addEventListener('beforeunload', (e) => {
  if (!hasUnsavedChanges()) return;
  e.preventDefault();
  // Older browsers need returnValue set to show their prompt.
  e.returnValue = '';
});

/** Marks the calling form as having unsaved edits while `dirty` is true. */
export function useUnsavedChanges(dirty: boolean): void {
  const guard = useRef({ dirty });
  guard.current.dirty = dirty;
  useEffect(() => {
    const g = guard.current;
    guards.add(g);
    return () => {
      guards.delete(g);
    };
  }, []);
}
