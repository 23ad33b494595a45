// Loading data for a page: one copy of the fetch / abort / error / retry dance, and a debounced value
// for search boxes. Pages that still carry their own copy can move here as they are touched.
import { useEffect, useState } from 'preact/hooks';

export interface Loaded<T> {
  /** The last successful answer (kept while a new one loads, so lists do not flash empty). */
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs load(signal) whenever deps change (aborting the previous run) or reload() is called. An abort
 * is not an error; any other failure is kept in `error` until the next success.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    load(ctl.signal)
      .then((r) => {
        setData(r);
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [...deps, version]);
  return { data, error, loading, reload: () => setVersion((v) => v + 1) };
}

/** value, once it has stopped changing for ms milliseconds (trimmed: for search boxes). */
export function useDebounced(value: string, ms = 250): string {
  const [settled, setSettled] = useState(value.trim());
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value.trim()), ms);
    return () => window.clearTimeout(t);
  }, [value]);
  return settled;
}
