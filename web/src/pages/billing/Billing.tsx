// Billing: the workspace's plan, seats, usage, invoices and billing details. Owners change them
// (seats and plan with a priced preview, the interval, cancel and resume, billing details, the
// provider's portal); admins see them read-only. A sub-account billed to its agency shows the agency's
// plan and seats, read-only. Sub-pages: /billing/portal (Atrium's own portal for the manual provider)
// and /billing/invoices/{id} (an invoice, framed).
import { useEffect, useRef, useState } from 'preact/hooks';
import { billingApi, type BillingOverview, type InvoiceSummary, type Plan, type Interval } from '../../api-billing';
import { Link, navigate, useLocation } from '../../router';
import { Alert, Button, ErrorState, IconCompass, IconLayers, IconLink, PageHeader, Spinner, useToast } from '../../ui';
import { useWorkspaces, workspaceName, workspacePath } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { CancelCard, CancelDialog } from './Cancel';
import { ChangeDialog, type ChangeTarget } from './ChangeDialog';
import { CustomerCard } from './Customer';
import { useBillingData, useInvoices } from './data';
import { InvoicesCard, InvoiceView, invoicePath } from './Invoices';
import { formatDay, formatMoney, INTERVAL_LABEL, oldestOpen, plural, problemText, seatRange } from './model';
import { NextInvoiceCard, PlanCard, SeatsCard, StatusBanner, UsageCard } from './Overview';
import { PlansCard, SubscribeDialog } from './Plans';
import { BillingPortal } from './Portal';
import './billing.css';

export function Billing(props: WorkspacePageProps) {
  const { subpath, wsId, section, workspace } = props;
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  if (subpath === 'portal') return <BillingPortal {...props} />;
  const m = subpath ? /^invoices\/([^/]+)$/.exec(subpath) : null;
  if (m) return <InvoiceView wsId={wsId} invoiceId={decodeURIComponent(m[1])} canWrite={section.access === 'write'} workspace={name} />;
  if (subpath) return <BillingNotFound wsId={wsId} />;
  return <BillingHome {...props} />;
}

function BillingNotFound({ wsId }: { wsId: string }) {
  useTitle('Page not found');
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconCompass size={24} />
      </div>
      <p class="not-found-code">404</p>
      <h1 tabIndex={-1}>Page not found</h1>
      <p class="not-found-text">There is no such Billing page. Check the address, or head back.</p>
      <Link href={workspacePath(wsId, 'billing')} class="btn btn-primary btn-md">
        Back to Billing
      </Link>
    </div>
  );
}

/** Opens the provider's portal: Atrium's own page (an in-app path) or the provider's site. */
export async function openPortal(wsId: string): Promise<void> {
  const { url } = await billingApi.portal(wsId);
  if (url.startsWith('/')) navigate(url);
  else window.location.assign(url);
}

function BillingHome({ wsId, section, sections, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const toast = useToast();
  const { search } = useLocation();
  const canWrite = section.access === 'write';
  const { overview, plans, error, loading, reload } = useBillingData(wsId);
  const own = !!overview && overview.billing_mode === 'own';
  const invoices = useInvoices(wsId, own);
  const canOperate = sections.items.some((s) => s.id === 'billing_recovery' && s.access === 'write');
  const teamPath = sections.items.some((s) => s.id === 'team') ? workspacePath(wsId, 'team') : undefined;
  const [change, setChange] = useState<ChangeTarget | null>(null);
  const [subscribing, setSubscribing] = useState<{ plan: Plan; interval: Interval } | null>(null);
  const [canceling, setCanceling] = useState(false);
  const [busy, setBusy] = useState<'resume' | 'pay' | 'portal' | 'checkout' | null>(null);
  const deepLinked = useRef(false);

  const refresh = () => {
    reload();
    invoices.reload();
  };

  const sub = overview?.subscription ?? null;
  const live = !!sub && sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
  const changeable = own && canWrite && live && (sub!.status === 'active' || sub!.status === 'trialing');
  const offered = plans?.items ?? [];

  const openChange = (kind: ChangeTarget['kind'], plan?: Plan, interval?: Interval) => {
    if (!sub || !overview) return;
    const p = plan ?? offered.find((x) => x.id === sub.plan_id) ?? overview.plan!;
    const r = seatRange(p, overview.seats.used);
    setChange({
      kind,
      plan_id: p.id,
      interval: interval ?? (kind === 'interval' ? (sub.interval === 'month' ? 'year' : 'month') : sub.interval),
      quantity: Math.min(r.max, Math.max(r.min, sub.quantity)),
    });
  };

  // The shell's payment banner and the sections come from GET .../sections: once Billing shows the
  // payment state changed (paid, recovered, or newly past due), reload them so every page agrees.
  const { loadSections } = useWorkspaces();
  const kind = overview?.banner?.kind;
  const alerting = kind === 'past_due' || kind === 'unpaid';
  useEffect(() => {
    if (overview && alerting !== !!sections.billing_alert) void loadSections(wsId);
  }, [overview, alerting]);

  // ?plan=pro (a link from a "your plan does not include this" refusal) opens that plan's change.
  useEffect(() => {
    if (deepLinked.current || !overview || !plans || !canWrite || !own) return;
    const want = search.get('plan');
    if (search.get('checkout') === 'done') toast({ title: 'Payment method saved', description: 'Open invoices are collected with it.' });
    deepLinked.current = true;
    const p = want ? plans.items.find((x) => x.id === want) : undefined;
    if (!p) return;
    if (!live) setSubscribing({ plan: p, interval: 'month' });
    else if (changeable && p.id !== sub!.plan_id) openChange('plan', p, sub!.interval);
  }, [overview, plans]);

  const showPlans = () => {
    const el = document.getElementById('plans');
    el?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    el?.focus({ preventScroll: true });
  };

  const resume = async () => {
    setBusy('resume');
    try {
      await billingApi.resume(wsId);
      toast({ title: 'Subscription resumed', description: 'It renews as usual.' });
      refresh();
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't resume the subscription", description: problemText(e) });
    } finally {
      setBusy(null);
    }
  };

  const pay = async (i: InvoiceSummary) => {
    setBusy('pay');
    try {
      await billingApi.pay(wsId, i.id);
      toast({ title: 'Payment requested', description: `${i.number ?? 'The invoice'} is being collected; this page updates when it goes through.` });
      refresh();
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't start the payment", description: problemText(e) });
    } finally {
      setBusy(null);
    }
  };

  const portal = async () => {
    setBusy('portal');
    try {
      await openPortal(wsId);
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't open the billing portal", description: problemText(e) });
    } finally {
      setBusy(null);
    }
  };

  const checkout = async () => {
    setBusy('checkout');
    try {
      const { url } = await billingApi.checkout(wsId);
      window.location.assign(url);
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't add a payment method", description: problemText(e) });
      setBusy(null);
    }
  };

  const manual = overview?.provider === 'manual';
  const needsCard = own && canWrite && live && !manual && !overview?.customer?.payment_method;

  return (
    <>
      <PageHeader
        title={section.title}
        description={
          overview?.billing_mode === 'parent'
            ? `The plan and usage of ${name}, billed by ${overview.billed_by_name}.`
            : `The plan, seats, usage and invoices of ${name}.`
        }
        actions={
          own &&
          canWrite && (
            <>
              {needsCard && (
                <Button variant="primary" loading={busy === 'checkout'} onClick={() => void checkout()}>
                  Add payment method
                </Button>
              )}
              <Button icon={<IconLink size={16} />} loading={busy === 'portal'} onClick={() => void portal()}>
                Manage billing
              </Button>
            </>
          )
        }
      />

      {overview && !canWrite && own && (
        <Alert tone="info" title="Only owners can change billing" class="bill-note">
          You can see the plan, seats, usage and invoices of {name}, but not change them. Ask an owner if something needs to change.
        </Alert>
      )}
      {overview?.billing_mode === 'parent' && (
        <section class="bill-agency" aria-label="Billed to your agency">
          <span class="bill-agency-icon" aria-hidden="true">
            <IconLayers size={18} />
          </span>
          <div>
            <p class="bill-agency-title">Billed to your agency</p>
            <p>
              {name} is billed by <strong>{overview.billed_by_name}</strong>. Its plan and its own usage are shown here;
              the agency manages the seats, and its invoices go to the agency.
            </p>
          </div>
        </section>
      )}

      {!overview ? (
        error ? (
          <ErrorState error={error} title="Couldn't load billing" onRetry={reload} retrying={loading} />
        ) : (
          <div class="page-spinner">
            <Spinner size={24} label="Loading billing" />
          </div>
        )
      ) : (
        <BillingBody
          wsId={wsId}
          overview={overview}
          plans={offered}
          canWrite={canWrite}
          own={own}
          live={live}
          changeable={changeable}
          teamPath={teamPath}
          invoices={invoices}
          canOperate={canOperate}
          busy={busy}
          onResume={() => void resume()}
          onPay={(i) => void pay(i)}
          onShowPlans={showPlans}
          onChange={openChange}
          onSubscribe={(p, i) => setSubscribing({ plan: p, interval: i })}
          onCancel={() => setCanceling(true)}
          onRefresh={refresh}
        />
      )}

      {overview && (
        <>
          <ChangeDialog
            wsId={wsId}
            overview={overview}
            plans={offered}
            target={change}
            onClose={() => setChange(null)}
            onDone={(r, preview, target) => {
              setChange(null);
              const cur = preview.after;
              const what =
                target.kind === 'seats'
                  ? `Seats changed to ${cur.quantity}`
                  : target.kind === 'interval'
                    ? `Billing switched to ${INTERVAL_LABEL[cur.interval].toLowerCase()}`
                    : `Plan changed to ${offered.find((p) => p.id === cur.plan_id)?.name ?? cur.plan_id}`;
              toast(
                preview.effective === 'period_end'
                  ? {
                      title: 'Change scheduled',
                      description: `From ${formatDay(r.subscription.current_period_end)}: ${plural(cur.quantity, 'seat')}, ${
                        offered.find((p) => p.id === cur.plan_id)?.name ?? cur.plan_id
                      }, billed ${INTERVAL_LABEL[cur.interval].toLowerCase()}.`,
                    }
                  : {
                      title: what,
                      description: r.invoice
                        ? `An invoice for ${formatMoney(preview.amount_due_now, overview.currency)} was issued; it's under Invoices.`
                        : preview.proration === 'prorate'
                          ? 'The difference is on your next invoice.'
                          : undefined,
                    },
              );
              refresh();
            }}
          />
          <SubscribeDialog
            wsId={wsId}
            overview={overview}
            plans={offered}
            target={subscribing}
            onClose={() => setSubscribing(null)}
            onDone={(s) => {
              setSubscribing(null);
              toast({
                title: `${s.plan_name} started`,
                description: s.status === 'trialing' ? `Your free trial runs until ${formatDay(s.trial_end)}.` : 'The first invoice is under Invoices.',
              });
              refresh();
            }}
          />
          <CancelDialog
            wsId={wsId}
            sub={sub}
            open={canceling}
            onClose={() => setCanceling(false)}
            onDone={(s, atEnd) => {
              setCanceling(false);
              toast(
                atEnd
                  ? { title: 'Subscription canceled', description: `It ends on ${formatDay(s.status === 'trialing' ? s.trial_end : s.current_period_end)}; you can resume it until then.` }
                  : { title: 'Subscription canceled', description: 'It has ended. The workspace is on the free plan now.' },
              );
              refresh();
            }}
          />
        </>
      )}
    </>
  );
}

function BillingBody({
  wsId,
  overview,
  plans,
  canWrite,
  own,
  live,
  changeable,
  teamPath,
  invoices,
  canOperate,
  busy,
  onResume,
  onPay,
  onShowPlans,
  onChange,
  onSubscribe,
  onCancel,
  onRefresh,
}: {
  wsId: string;
  overview: BillingOverview;
  plans: Plan[];
  canWrite: boolean;
  own: boolean;
  live: boolean;
  changeable: boolean;
  teamPath?: string;
  invoices: ReturnType<typeof useInvoices>;
  canOperate: boolean;
  busy: string | null;
  onResume: () => void;
  onPay: (i: InvoiceSummary) => void;
  onShowPlans: () => void;
  onChange: (kind: ChangeTarget['kind'], plan?: Plan, interval?: Interval) => void;
  onSubscribe: (p: Plan, i: Interval) => void;
  onCancel: () => void;
  onRefresh: () => void;
}) {
  const sub = overview.subscription;
  const billingNow = Date.parse(overview.now);
  return (
    <>
      <StatusBanner
        overview={overview}
        openInvoice={oldestOpen(invoices.items)}
        canWrite={canWrite}
        busy={busy === 'resume' || busy === 'pay'}
        onResume={onResume}
        onPay={onPay}
        onChoosePlan={onShowPlans}
        invoicePath={(id) => invoicePath(wsId, id)}
      />
      <div class="bill-top">
        <PlanCard
          overview={overview}
          plans={plans}
          canWrite={canWrite && own}
          onChangePlan={onShowPlans}
          onSwitchInterval={() => onChange('interval')}
        />
        <div class="bill-side">
          <SeatsCard overview={overview} canChange={changeable} teamPath={teamPath} onChange={() => onChange('seats')} />
          {own && overview.upcoming_invoice && <NextInvoiceCard upcoming={overview.upcoming_invoice} currency={overview.currency} />}
        </div>
      </div>
      <UsageCard overview={overview} />
      {own && plans.length > 0 && (
        <PlansCard
          overview={overview}
          plans={plans}
          canWrite={canWrite}
          onChange={(p, i) => onChange(p.id === sub?.plan_id ? 'interval' : 'plan', p, i)}
          onSubscribe={onSubscribe}
        />
      )}
      {own && (
        <InvoicesCard
          wsId={wsId}
          data={invoices}
          billingNow={billingNow}
          canOperate={canOperate}
          onChanged={onRefresh}
          emptyText={
            sub?.status === 'trialing'
              ? `The first invoice is issued when the trial ends on ${formatDay(sub.trial_end)}.`
              : 'Invoices appear here as they are issued.'
          }
        />
      )}
      {own && <CustomerCard wsId={wsId} canWrite={canWrite} />}
      {own && canWrite && live && sub && sub.status !== 'paused' && (
        <CancelCard sub={sub} busy={busy === 'resume'} onCancel={onCancel} onResume={onResume} />
      )}
    </>
  );
}
