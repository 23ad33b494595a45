import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { IconAlert, IconCheck, IconInfo, IconX } from './icons';

export type ToastTone = 'success' | 'danger' | 'info';

export interface ToastInput {
  title: string;
  description?: string;
  tone?: ToastTone;
  /** Milliseconds before it hides itself; 0 keeps it until dismissed. */
  duration?: number;
}

interface ToastItem extends ToastInput {
  id: number;
}

const ToastContext = createContext<(t: ToastInput) => void>(() => {});

/** Shows a toast: `const toast = useToast(); toast({ title: 'Saved' })`. */
export function useToast(): (t: ToastInput) => void {
  return useContext(ToastContext);
}

/**
 * Holds the toasts and their live region. The region is always in the page (so screen readers
 * announce what is added to it); errors are announced assertively, the rest politely.
 */
export function ToastProvider({ children }: { children: ComponentChildren }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const next = useRef(1);

  const dismiss = useCallback((id: number) => setItems((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback((t: ToastInput) => {
    const id = next.current++;
    setItems((list) => [...list.slice(-3), { ...t, id }]);
  }, []);
  const value = useMemo(() => show, [show]);

  return (
    <ToastContext.Provider value={value}>
      {children}
      <div class="toast-region" aria-live="polite" aria-relevant="additions text" role="status">
        {items
          .filter((t) => t.tone !== 'danger')
          .map((t) => (
            <Toast key={t.id} item={t} onDismiss={dismiss} />
          ))}
      </div>
      <div class="toast-region toast-region-assertive" aria-live="assertive" role="alert">
        {items
          .filter((t) => t.tone === 'danger')
          .map((t) => (
            <Toast key={t.id} item={t} onDismiss={dismiss} />
          ))}
      </div>
    </ToastContext.Provider>
  );
}

function Toast({ item, onDismiss }: { item: ToastItem; onDismiss: (id: number) => void }) {
  const [paused, setPaused] = useState(false);
  const duration = item.duration ?? (item.tone === 'danger' ? 10000 : 6000);
  useEffect(() => {
    if (duration === 0 || paused) return;
    const t = window.setTimeout(() => onDismiss(item.id), duration);
    return () => window.clearTimeout(t);
  }, [paused, duration]);
  const tone = item.tone ?? 'success';
  const Icon = tone === 'success' ? IconCheck : tone === 'danger' ? IconAlert : IconInfo;
  return (
    <div
      class={`toast toast-${tone}`}
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocusIn={() => setPaused(true)}
      onFocusOut={() => setPaused(false)}
    >
      <span class="toast-icon">
        <Icon size={18} />
      </span>
      <div class="toast-body">
        <p class="toast-title">{item.title}</p>
        {item.description && <p class="toast-text">{item.description}</p>}
      </div>
      <button type="button" class="toast-close" aria-label="Dismiss notification" onClick={() => onDismiss(item.id)}>
        <IconX size={16} />
      </button>
    </div>
  );
}
