// Loading the Billing page's documents: the overview and the plan list together, and the invoice
// list (paged with "Load more"). Each exposes reload() so actions can refresh what they changed.
import { useEffect, useState } from 'preact/hooks';
import { billingApi, type BillingOverview, type InvoiceSummary, type PlanList } from '../../api-billing';

function aborted(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export interface BillingData {
  overview: BillingOverview | null;
  plans: PlanList | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useBillingData(wsId: string): BillingData {
  const [overview, setOverview] = useState<BillingOverview | null>(null);
  const [plans, setPlans] = useState<PlanList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    Promise.all([billingApi.overview(wsId, ctl.signal), billingApi.plans(wsId, ctl.signal)])
      .then(([o, p]) => {
        setOverview(o);
        setPlans(p);
        setError(null);
      })
      .catch((e) => {
        if (!aborted(e)) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, version]);

  return { overview, plans, error, loading, reload: () => setVersion((v) => v + 1) };
}

export interface InvoiceData {
  items: InvoiceSummary[] | null;
  next: string | null;
  error: unknown;
  loading: boolean;
  loadingMore: boolean;
  reload: () => void;
  more: () => void;
}

export function useInvoices(wsId: string, enabled = true): InvoiceData {
  const [items, setItems] = useState<InvoiceSummary[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(enabled);
  const [loadingMore, setLoadingMore] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (!enabled) return;
    const ctl = new AbortController();
    setLoading(true);
    billingApi
      .invoices(wsId, undefined, ctl.signal)
      .then((r) => {
        setItems(r.items);
        setNext(r.next_cursor);
        setError(null);
      })
      .catch((e) => {
        if (!aborted(e)) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [wsId, version, enabled]);

  const more = () => {
    if (!next || loadingMore) return;
    setLoadingMore(true);
    billingApi
      .invoices(wsId, next)
      .then((r) => {
        setItems((list) => [...(list ?? []), ...r.items.filter((i) => !(list ?? []).some((x) => x.id === i.id))]);
        setNext(r.next_cursor);
      })
      .catch((e) => setError(e))
      .finally(() => setLoadingMore(false));
  };

  return { items, next, error, loading, loadingMore, reload: () => setVersion((v) => v + 1), more };
}
