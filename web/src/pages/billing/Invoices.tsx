// Invoices: the history table (number, date, status, total, amount due; view and PDF), the operator
// actions a developer has (mark paid, void, mark uncollectible), and the in-app invoice view that
// frames the invoice's own HTML document.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { billingApi, type BillingOverview, type Invoice, type InvoiceSummary } from '../../api-billing';
import { Link } from '../../router';
import {
  Alert,
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  IconArrowDown,
  IconChevronLeft,
  IconLink,
  IconMail,
  IconMore,
  Menu,
  PageHeader,
  Spinner,
  Table,
  useToast,
  type Column,
  type MenuItem,
} from '../../ui';
import { workspacePath } from '../../workspace';
import { useTitle } from '../title';
import type { InvoiceData } from './data';
import { formatDay, formatMoney, invoiceBadge, invoiceReason, problemText, remaining } from './model';

export const invoicePath = (wsId: string, id: string) => `${workspacePath(wsId, 'billing')}/invoices/${encodeURIComponent(id)}`;

type Action = 'mark-paid' | 'void' | 'mark-uncollectible';
const ACTION_TEXT: Record<Action, { label: string; title: (n: string) => string; body: string; done: string }> = {
  'mark-paid': {
    label: 'Mark paid…',
    title: (n) => `Mark ${n} as paid?`,
    body: 'Use this when the money arrived another way (a bank transfer, a cheque). The subscription leaves recovery if this was the invoice it waited for.',
    done: 'marked paid',
  },
  void: {
    label: 'Void…',
    title: (n) => `Void ${n}?`,
    body: 'A void invoice is no longer owed and is kept for the record. This cannot be undone.',
    done: 'voided',
  },
  'mark-uncollectible': {
    label: 'Mark uncollectible…',
    title: (n) => `Mark ${n} as uncollectible?`,
    body: 'The amount is written off as a loss. It can still be marked paid if the money arrives later.',
    done: 'marked uncollectible',
  },
};

export function InvoicesCard({
  wsId,
  data,
  billingNow,
  canOperate,
  onChanged,
  emptyText,
  title = 'Invoices',
}: {
  wsId: string;
  data: InvoiceData;
  billingNow: number;
  /** A developer with Billing Recovery access: operator actions on open invoices. */
  canOperate: boolean;
  onChanged: () => void;
  emptyText: string;
  title?: string;
}) {
  const toast = useToast();
  const [acting, setActing] = useState<{ invoice: InvoiceSummary; action: Action } | null>(null);
  const [busy, setBusy] = useState(false);
  const { items, error, loading } = data;

  const run = async () => {
    if (!acting) return;
    setBusy(true);
    const name = acting.invoice.number ?? acting.invoice.id;
    try {
      await billingApi.invoiceAction(wsId, acting.invoice.id, acting.action);
      toast({ title: `${name} ${ACTION_TEXT[acting.action].done}` });
      setActing(null);
      data.reload();
      onChanged();
    } catch (e) {
      toast({ tone: 'danger', title: `Couldn't update ${name}`, description: problemText(e) });
      setActing(null);
      data.reload();
    } finally {
      setBusy(false);
    }
  };

  const actionsFor = (i: InvoiceSummary): MenuItem[] => {
    const list: MenuItem[] = [];
    if (i.status === 'open' || i.status === 'uncollectible')
      list.push({ id: 'paid', label: ACTION_TEXT['mark-paid'].label, onSelect: () => setActing({ invoice: i, action: 'mark-paid' }) });
    if (i.status === 'open')
      list.push({
        id: 'uncollectible',
        label: ACTION_TEXT['mark-uncollectible'].label,
        onSelect: () => setActing({ invoice: i, action: 'mark-uncollectible' }),
      });
    if (i.status === 'open' || i.status === 'uncollectible')
      list.push({ id: 'void', label: ACTION_TEXT.void.label, tone: 'danger', separated: true, onSelect: () => setActing({ invoice: i, action: 'void' }) });
    return list;
  };

  const columns: Column<InvoiceSummary>[] = [
    {
      key: 'number',
      header: 'Invoice',
      primary: true,
      render: (i) => (
        <span class="bill-inv-cell">
          <Link href={invoicePath(wsId, i.id)} class="bill-inv-number">
            {i.number ?? 'Draft'}
          </Link>
          <span class="bill-muted">{invoiceReason(i.reason)}</span>
        </span>
      ),
    },
    {
      key: 'date',
      header: 'Date',
      render: (i) => (
        <span class="bill-inv-cell">
          <span>{formatDay(i.created_at)}</span>
          {i.status === 'open' && i.due_at && <span class="bill-muted">Due {formatDay(i.due_at)}</span>}
        </span>
      ),
    },
    {
      key: 'status',
      header: 'Status',
      render: (i) => {
        const b = invoiceBadge(i, billingNow);
        return (
          <Badge tone={b.tone} dot>
            {b.label}
          </Badge>
        );
      },
    },
    { key: 'total', header: 'Total', align: 'end', class: 'bill-num', render: (i) => formatMoney(i.total, i.currency) },
    {
      key: 'due',
      header: 'Amount due',
      align: 'end',
      class: 'bill-num',
      render: (i) => {
        const r = remaining(i);
        return r > 0 ? <strong>{formatMoney(r, i.currency)}</strong> : <span class="bill-muted">{formatMoney(0, i.currency)}</span>;
      },
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (i) => {
        const label = i.number ?? i.id;
        const ops = canOperate ? actionsFor(i) : [];
        return (
          <div class="bill-inv-actions">
            <Link href={invoicePath(wsId, i.id)} class="btn btn-ghost btn-sm" aria-label={`View invoice ${label}`}>
              View
            </Link>
            <a href={billingApi.invoicePdfUrl(wsId, i.id)} download class="btn btn-ghost btn-sm" aria-label={`Download invoice ${label} as PDF`}>
              <IconArrowDown size={14} />
              PDF
            </a>
            {ops.length > 0 && <Menu label={`Operator actions for ${label}`} items={ops} trigger={<IconMore size={18} />} />}
          </div>
        );
      },
    },
  ];

  return (
    <Card flush class="bill-invoices" title={title} description="Every invoice of this workspace, newest first. Open one to see it, or download it as a PDF.">
      {items && items.length > 0 ? (
        <>
          <Table caption="Invoices" columns={columns} rows={items} rowKey={(i) => i.id} rowClass={(i) => (i.status === 'void' ? 'is-inactive' : undefined)} />
          {(data.next || loading) && (
            <div class="bill-table-foot">
              {data.next && (
                <Button size="sm" onClick={data.more} loading={data.loadingMore}>
                  Show older invoices
                </Button>
              )}
              {loading && <Spinner size={14} label="Updating the invoices" />}
            </div>
          )}
        </>
      ) : items && !loading ? (
        <EmptyState icon={<IconMail size={20} />} title="No invoices yet">
          {emptyText}
        </EmptyState>
      ) : error ? (
        <ErrorState error={error} title="Couldn't load the invoices" onRetry={data.reload} retrying={loading} />
      ) : (
        <div class="card-loading">
          <Spinner label="Loading invoices" />
        </div>
      )}
      <ConfirmDialog
        open={!!acting}
        tone={acting?.action === 'mark-paid' ? 'primary' : 'danger'}
        title={acting ? ACTION_TEXT[acting.action].title(acting.invoice.number ?? acting.invoice.id) : ''}
        description={acting && <p>{ACTION_TEXT[acting.action].body}</p>}
        confirmLabel={acting ? ACTION_TEXT[acting.action].label.replace('…', '') : ''}
        busy={busy}
        onConfirm={() => void run()}
        onCancel={() => setActing(null)}
      />
    </Card>
  );
}

// ---- The invoice view --------------------------------------------------------------------------------

export function InvoiceView({ wsId, invoiceId, canWrite, workspace }: { wsId: string; invoiceId: string; canWrite: boolean; workspace: string }) {
  const toast = useToast();
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [overview, setOverview] = useState<BillingOverview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const [paying, setPaying] = useState(false);
  const frame = useRef<HTMLIFrameElement>(null);
  const name = invoice ? `Invoice ${invoice.number ?? invoice.id}` : 'Invoice';
  useTitle(`${name} · ${workspace}`);

  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([billingApi.invoice(wsId, invoiceId, ctl.signal), billingApi.overview(wsId, ctl.signal)])
      .then(([i, o]) => {
        setInvoice(i);
        setOverview(o);
        setError(null);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      });
    return () => ctl.abort();
  }, [wsId, invoiceId, version]);

  // Fit the frame to the document so the page scrolls as one.
  const fit = () => {
    const f = frame.current;
    const doc = f?.contentDocument;
    if (!f || !doc?.documentElement) return;
    f.style.height = `${Math.max(480, doc.documentElement.scrollHeight)}px`;
  };
  useLayoutEffect(() => {
    window.addEventListener('resize', fit);
    return () => window.removeEventListener('resize', fit);
  }, []);

  const back = workspacePath(wsId, 'billing');
  const pay = async () => {
    if (!invoice) return;
    setPaying(true);
    try {
      await billingApi.pay(wsId, invoice.id);
      toast({ title: 'Payment requested', description: 'The payment is being collected; the invoice updates when it goes through.' });
      setVersion((v) => v + 1);
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't start the payment", description: problemText(e) });
    } finally {
      setPaying(false);
    }
  };

  if (error)
    return (
      <>
        <BackLink href={back} />
        <ErrorState
          error={error}
          title={error instanceof ApiError && error.status === 404 ? 'Invoice not found' : "Couldn't load the invoice"}
          onRetry={() => setVersion((v) => v + 1)}
        />
      </>
    );
  if (!invoice || !overview)
    return (
      <>
        <BackLink href={back} />
        <div class="page-spinner">
          <Spinner size={24} label="Loading the invoice" />
        </div>
      </>
    );

  const b = invoiceBadge(invoice, Date.parse(overview.now));
  const owed = remaining(invoice);
  const manual = overview.provider === 'manual';
  const htmlUrl = billingApi.invoiceHtmlUrl(wsId, invoice.id);
  return (
    <>
      <BackLink href={back} />
      <PageHeader
        title={name}
        eyebrow={
          <>
            <Badge tone={b.tone} dot>
              {b.label}
            </Badge>
          </>
        }
        description={`${invoiceReason(invoice.reason)} · issued ${formatDay(invoice.created_at)}${
          invoice.period_start && invoice.period_end ? ` · for ${formatDay(invoice.period_start)} – ${formatDay(invoice.period_end)}` : ''
        }`}
        actions={
          <>
            <a href={billingApi.invoicePdfUrl(wsId, invoice.id)} download class="btn btn-secondary btn-md">
              <span class="btn-content">
                <span class="btn-icon" aria-hidden="true">
                  <IconArrowDown size={16} />
                </span>
                Download PDF
              </span>
            </a>
            <a href={htmlUrl} target="_blank" rel="noopener" class="btn btn-ghost btn-md">
              <span class="btn-content">
                <span class="btn-icon" aria-hidden="true">
                  <IconLink size={16} />
                </span>
                Open in new tab
              </span>
            </a>
          </>
        }
      />
      <dl class="bill-inv-summary">
        <div>
          <dt>Total</dt>
          <dd>{formatMoney(invoice.total, invoice.currency)}</dd>
        </div>
        <div>
          <dt>Amount due</dt>
          <dd data-testid="invoice-amount-due">{formatMoney(owed, invoice.currency)}</dd>
        </div>
        <div>
          <dt>{invoice.status === 'paid' ? 'Paid' : 'Due'}</dt>
          <dd>{formatDay(invoice.status === 'paid' ? invoice.paid_at : invoice.due_at)}</dd>
        </div>
      </dl>
      {owed > 0 &&
        (manual ? (
          <Alert tone={b.label === 'Overdue' ? 'danger' : 'info'} title="How to pay" class="bill-inv-alert">
            Invoices are sent by email and paid by bank transfer. Transfer {formatMoney(owed, invoice.currency)} to{' '}
            {invoice.issuer.name ?? 'the issuer'}, quoting <strong>{invoice.number ?? invoice.id}</strong> as the reference; it is marked
            paid when the money arrives.
          </Alert>
        ) : (
          canWrite && (
            <div class="bill-inv-pay">
              <p>{formatMoney(owed, invoice.currency)} is still owed on this invoice.</p>
              <Button variant="primary" loading={paying} onClick={() => void pay()}>
                Pay {formatMoney(owed, invoice.currency)} now
              </Button>
            </div>
          )
        ))}
      <div class="bill-frame-wrap">
        <iframe ref={frame} class="bill-frame" src={htmlUrl} title={name} sandbox="allow-same-origin" onLoad={fit} />
      </div>
    </>
  );
}

export function BackLink({ href, label = 'Billing' }: { href: string; label?: string }) {
  return (
    <Link href={href} class="bill-back">
      <IconChevronLeft size={16} />
      {label}
    </Link>
  );
}
