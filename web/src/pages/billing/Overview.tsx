// The top of the Billing page: the status banner, the current plan, seats, the next invoice and the
// usage meters.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { BillingOverview, InvoiceSummary, Plan, UpcomingInvoice, UsageCount, UsageMeter } from '../../api-billing';
import { Link } from '../../router';
import { Badge, Button, IconAlert, IconCheck, IconClock, IconInfo, IconPause, IconUsers } from '../../ui';
import { Lines } from './Lines';
import {
  featureName,
  formatCount,
  formatDay,
  formatMoney,
  INTERVAL_LABEL,
  PER,
  planAmount,
  plural,
  priceText,
  remaining,
  statusBadge,
  unitPriceText,
  unitText,
  yearlySaving,
} from './model';
import { overdueList } from '../../shell/PaymentNotice';

/** A horizontal bar whose fill width is set through the CSSOM (the CSP allows no inline styles). */
export function Bar({ value, max, tone, label, text }: { value: number; max: number; tone?: 'warning' | 'danger'; label: string; text: string }) {
  const fill = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    if (fill.current) fill.current.style.width = `${max > 0 ? Math.min(100, (value / max) * 100) : value > 0 ? 100 : 0}%`;
  }, [value, max]);
  return (
    <span
      class={tone ? `bill-bar is-${tone}` : 'bill-bar'}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={Math.max(max, value)}
      aria-valuenow={value}
      aria-valuetext={text}
    >
      <span ref={fill} class="bill-bar-fill" />
    </span>
  );
}

// ---- Status banner ---------------------------------------------------------------------------------

export function StatusBanner({
  overview,
  openInvoice,
  canWrite,
  busy,
  onResume,
  onPay,
  onChoosePlan,
  invoicePath,
}: {
  overview: BillingOverview;
  /** The oldest open invoice, for "Pay". */
  openInvoice?: InvoiceSummary;
  canWrite: boolean;
  busy: boolean;
  onResume: () => void;
  onPay: (invoice: InvoiceSummary) => void;
  onChoosePlan: () => void;
  invoicePath: (id: string) => string;
}) {
  const sub = overview.subscription;
  const b = overview.banner;
  const currency = overview.currency;
  const parent = overview.billing_mode === 'parent';
  const manual = overview.provider === 'manual';

  let tone: 'accent' | 'danger' | 'warning' | 'neutral' = 'neutral';
  let icon: ComponentChildren = <IconInfo size={18} />;
  let title = '';
  let text: ComponentChildren = null;
  let actions: ComponentChildren = null;

  const several = (b?.overdue?.invoices.length ?? 0) > 1;
  const payLabel = (i: InvoiceSummary) =>
    several ? `Pay ${i.number ?? 'the oldest'} (${formatMoney(remaining(i), currency)})` : `Pay ${formatMoney(remaining(i), currency)}`;
  const payAction = () => {
    if (parent || !openInvoice) return null;
    if (!canWrite || manual)
      return (
        <Link href={invoicePath(openInvoice.id)} class={canWrite ? 'btn btn-primary btn-sm' : 'btn btn-secondary btn-sm'}>
          {canWrite ? payLabel(openInvoice) : 'View invoice'}
        </Link>
      );
    return (
      <Button size="sm" variant="primary" loading={busy} onClick={() => onPay(openInvoice)}>
        {payLabel(openInvoice)}
      </Button>
    );
  };
  const resumeAction = canWrite && !parent && (
    <Button size="sm" variant="primary" loading={busy} onClick={onResume}>
      Resume subscription
    </Button>
  );

  if (sub?.status === 'canceled') {
    title = 'Your subscription has ended';
    text = `It ended on ${formatDay(sub.ended_at ?? sub.canceled_at)}. The workspace runs on the free plan now.`;
    actions = canWrite && !parent && (
      <Button size="sm" variant="primary" onClick={onChoosePlan}>
        Choose a plan
      </Button>
    );
  } else if (!b || (b.kind === 'none' && sub)) {
    return null;
  } else if (b.kind === 'trial') {
    tone = 'accent';
    icon = <IconClock size={18} />;
    const days = b.days_left ?? 0;
    title = days > 0 ? `Your free trial ends in ${plural(days, 'day')}` : 'Your free trial ends today';
    if (sub?.cancel_at_period_end) {
      tone = 'warning';
      text = `On ${formatDay(b.at)} the trial ends and the subscription with it. Resume to keep ${sub.plan_name} after that.`;
      actions = resumeAction;
    } else {
      text = (
        <>
          On {formatDay(b.at)} {parent ? 'your agency' : 'you'} start paying for {sub?.plan_name ?? 'the plan'}
          {overview.upcoming_invoice && !parent ? (
            <>
              : the first invoice is <strong>{formatMoney(overview.upcoming_invoice.amount_due, currency)}</strong>.
            </>
          ) : (
            '.'
          )}
        </>
      );
    }
  } else if (b.kind === 'past_due' || b.kind === 'unpaid') {
    tone = 'danger';
    icon = <IconAlert size={18} />;
    title = parent
      ? b.kind === 'past_due'
        ? "Your agency's payment is past due"
        : "Your agency's subscription is unpaid"
      : b.kind === 'past_due'
        ? 'Payment past due'
        : 'Subscription unpaid';
    text = parent ? (
      'Paid features may be paused until the agency that manages this workspace pays its open invoice.'
    ) : (
      <>
        {b.overdue && b.overdue.invoices.length > 1 ? (
          <>
            <strong data-testid="overdue-total">{formatMoney(b.overdue.total, currency)}</strong> is overdue across{' '}
            {b.overdue.invoices.length} invoices: {overdueList(b.overdue, currency)}.{' '}
          </>
        ) : openInvoice ? (
          <>
            Invoice <strong>{openInvoice.number ?? openInvoice.id}</strong> for {formatMoney(remaining(openInvoice), currency)} was due on{' '}
            {formatDay(openInvoice.due_at)}.{' '}
          </>
        ) : (
          `${b.message} `
        )}
        {(b.overdue?.invoices.length ?? 0) > 1
          ? b.kind === 'past_due'
            ? 'Pay them to keep every feature.'
            : 'Paid features are off until they are paid.'
          : b.kind === 'past_due'
            ? 'Pay it to keep every feature.'
            : 'Paid features are off until it is paid.'}
        {manual && ' Invoices are paid by bank transfer, quoting the invoice number.'}
      </>
    );
    actions = payAction();
  } else if (b.kind === 'paused') {
    tone = 'warning';
    icon = <IconPause size={18} />;
    title = 'Subscription paused';
    text = b.message;
    actions = resumeAction;
  } else if (b.kind === 'incomplete') {
    tone = 'warning';
    icon = <IconClock size={18} />;
    title = 'Waiting for the first payment';
    text = b.message;
    actions = payAction();
  } else if (b.kind === 'canceling') {
    tone = 'warning';
    icon = <IconClock size={18} />;
    title = `Your subscription ends on ${formatDay(b.at)}`;
    text = `You keep ${sub?.plan_name ?? 'your plan'} until then; after that the workspace moves to the free plan.${
      sub?.cancel_reason ? ` Reason given: “${sub.cancel_reason}”.` : ''
    }`;
    actions = resumeAction;
  } else if (b.kind === 'none') {
    title = 'No subscription';
    const rest = b.message.replace(/^No subscription[:.]\s*/i, '');
    text = parent ? 'Your agency has no subscription for this workspace.' : rest.charAt(0).toUpperCase() + rest.slice(1);
    actions = canWrite && !parent && (
      <Button size="sm" variant="primary" onClick={onChoosePlan}>
        Choose a plan
      </Button>
    );
  } else {
    title = b.message;
  }

  return (
    <section class={`bill-status bill-status-${tone}`} aria-label="Billing status" data-kind={sub?.status === 'canceled' ? 'canceled' : b?.kind}>
      <span class="bill-status-icon" aria-hidden="true">
        {icon}
      </span>
      <div class="bill-status-text">
        <p class="bill-status-title">{title}</p>
        {text && <p>{text}</p>}
      </div>
      {actions && <div class="bill-status-actions">{actions}</div>}
    </section>
  );
}

// ---- Current plan ----------------------------------------------------------------------------------

export function PlanCard({
  overview,
  plans,
  canWrite,
  onChangePlan,
  onSwitchInterval,
}: {
  overview: BillingOverview;
  plans: Plan[];
  canWrite: boolean;
  onChangePlan: () => void;
  onSwitchInterval: () => void;
}) {
  const sub = overview.subscription;
  const live = !!sub && sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
  const plan = overview.plan;
  const currency = overview.currency;
  const parent = overview.billing_mode === 'parent';
  if (!plan) return null;
  const interval = sub?.interval ?? 'month';
  const amount = live ? planAmount(plan, interval, sub!.quantity) : 0;
  // Billed by the agency: its subscription is not shown here, only whether the plan is in force.
  const badge = parent
    ? overview.entitled
      ? { tone: 'success' as const, label: 'Active' }
      : { tone: 'warning' as const, label: 'Paused' }
    : live
      ? statusBadge(sub!.status)
      : { tone: 'neutral' as const, label: 'Free' };
  const other = interval === 'month' ? 'year' : 'month';
  const saving = yearlySaving(plan);
  const pending = sub?.pending_change;
  const pendingPlan = pending ? (plans.find((p) => p.id === pending.plan_id)?.name ?? pending.plan_id) : '';
  const changeable = live && (sub!.status === 'active' || sub!.status === 'trialing') && !parent && canWrite;

  return (
    <section class="card bill-plan" aria-labelledby="bill-plan-title">
      <div class="bill-plan-head">
        <div>
          <p class="bill-eyebrow">{parent ? 'Plan of your agency' : 'Current plan'}</p>
          <h2 class="bill-plan-name" id="bill-plan-title">
            {plan.name}
            <Badge tone={badge.tone} dot>
              {badge.label}
            </Badge>
          </h2>
          <p class="bill-plan-desc">{plan.description}</p>
        </div>
        {live && !parent && (
          <div class="bill-plan-price">
            <p class="bill-plan-amount">
              {formatMoney(amount, currency)}
              <span> / {PER[interval]}</span>
            </p>
            <p class="bill-plan-per">
              {plural(sub!.quantity, 'seat')} · {priceText(plan, interval, currency)}
            </p>
          </div>
        )}
      </div>

      <dl class="bill-facts">
        {live && (
          <div class="bill-fact">
            <dt>Billing</dt>
            <dd>
              {INTERVAL_LABEL[interval]}
              {changeable && (other === 'year' ? saving > 0 : true) && (
                <button type="button" class="text-button bill-inline-action" onClick={onSwitchInterval}>
                  {other === 'year' ? `Switch to yearly${saving ? ` and save ${saving}%` : ''}` : 'Switch to monthly'}
                </button>
              )}
            </dd>
          </div>
        )}
        {live && sub!.status === 'trialing' && (
          <div class="bill-fact">
            <dt>Trial ends</dt>
            <dd>{formatDay(sub!.trial_end)}</dd>
          </div>
        )}
        {live && sub!.status !== 'trialing' && (
          <div class="bill-fact">
            <dt>{sub!.cancel_at_period_end ? 'Ends' : 'Renews'}</dt>
            <dd>{formatDay(sub!.current_period_end)}</dd>
          </div>
        )}
        {live && !parent && (
          <div class="bill-fact">
            <dt>Payment</dt>
            <dd>{overview.provider === 'manual' ? 'Invoice, paid by bank transfer' : (overview.customer?.payment_method?.label ?? 'Card on file')}</dd>
          </div>
        )}
        {parent && (
          <div class="bill-fact">
            <dt>Billed by</dt>
            <dd>{overview.billed_by_name}</dd>
          </div>
        )}
        {!live && !parent && (
          <div class="bill-fact">
            <dt>Seats</dt>
            <dd>{plural(plan.included_seats || plan.max_seats, 'seat')} included</dd>
          </div>
        )}
      </dl>

      {pending && (
        <p class="bill-pending">
          <IconClock size={16} />
          <span>
            On {formatDay(pending.effective_at)} this changes to <strong>{pendingPlan}</strong>, {plural(pending.quantity, 'seat')}, billed{' '}
            {INTERVAL_LABEL[pending.interval].toLowerCase()}.
          </span>
        </p>
      )}

      {plan.features.length > 0 && (
        <ul class="bill-features" aria-label={`What ${plan.name} includes`}>
          {plan.features.map((f) => (
            <li key={f}>
              <IconCheck size={14} />
              {featureName(f, plan)}
            </li>
          ))}
          {plan.metered.map((m) => (
            <li key={m.id}>
              <IconCheck size={14} />
              {unitText(m.included, m.unit)} a {PER[interval]}
            </li>
          ))}
        </ul>
      )}

      {changeable && (
        <div class="bill-plan-actions">
          <Button variant="secondary" onClick={onChangePlan}>
            Compare and change plan
          </Button>
        </div>
      )}
    </section>
  );
}

// ---- Seats -----------------------------------------------------------------------------------------

export function SeatsCard({
  overview,
  canChange,
  teamPath,
  onChange,
}: {
  overview: BillingOverview;
  canChange: boolean;
  teamPath?: string;
  onChange: () => void;
}) {
  const s = overview.seats;
  const parent = overview.billing_mode === 'parent';
  if (parent || s.purchased === null || s.available === null)
    return (
      <section class="card bill-seats" aria-labelledby="bill-seats-title">
        <div class="bill-card-head">
          <h2 class="bill-card-title" id="bill-seats-title">
            <IconUsers size={16} />
            Seats
          </h2>
        </div>
        <p class="bill-seats-count" data-testid="seats-count">
          <strong>{formatCount(s.used)}</strong> {s.used === 1 ? 'seat' : 'seats'} used here
        </p>
        <ul class="bill-legend" role="list">
          <li>{plural(s.active_members, 'active member')}</li>
          <li>{plural(s.pending_invitations, 'pending invitation')}</li>
        </ul>
        <p class="bill-muted">Seats are billed by {overview.billed_by_name}, which manages how many there are.</p>
        {teamPath && (
          <div class="bill-card-actions">
            <Link href={teamPath} class="btn btn-ghost btn-md">
              Manage team
            </Link>
          </div>
        )}
      </section>
    );
  // Unpaid or paused, only the fallback plan's seats can be filled (s.purchased), while the
  // subscription keeps the quantity the plan card prices: the card states both, never one for the other.
  const sub = overview.subscription;
  const limited = !!sub && !overview.entitled && sub.quantity !== s.purchased;
  const purchased = limited ? sub!.quantity : s.purchased;
  const full = s.used >= s.purchased;
  return (
    <section class="card bill-seats" aria-labelledby="bill-seats-title">
      <div class="bill-card-head">
        <h2 class="bill-card-title" id="bill-seats-title">
          <IconUsers size={16} />
          Seats
        </h2>
        {limited ? (
          <Badge tone="danger">Limited to {formatCount(s.purchased)}</Badge>
        ) : full ? (
          <Badge tone="warning">Full</Badge>
        ) : (
          <Badge tone="success">{plural(s.available, 'seat')} free</Badge>
        )}
      </div>
      <p class="bill-seats-count" data-testid="seats-count">
        <strong>{formatCount(s.used)}</strong> of {formatCount(purchased)} used
      </p>
      <Bar value={s.used} max={purchased} tone={full ? 'warning' : undefined} label="Seats used" text={`${s.used} of ${purchased} seats used`} />
      {limited && (
        <p class="bill-seats-limit" data-testid="seats-limit">
          While the subscription is {statusBadge(sub!.status).label.toLowerCase()}, only the free plan's {plural(s.purchased, 'seat')} can be
          filled: nobody new can join until it is paid. Everyone already here keeps their access.
        </p>
      )}
      <ul class="bill-legend" role="list">
        <li>{plural(s.active_members, 'active member')}</li>
        <li>{plural(s.pending_invitations, 'pending invitation')}</li>
      </ul>
      <p class="bill-muted">Members and pending invitations each hold a seat, here and in sub-accounts you pay for.</p>
      {(canChange || teamPath) && (
        <div class="bill-card-actions">
          {canChange && (
            <Button variant="primary" onClick={onChange}>
              Change seats
            </Button>
          )}
          {teamPath && (
            <Link href={teamPath} class="btn btn-ghost btn-md">
              Manage team
            </Link>
          )}
        </div>
      )}
    </section>
  );
}

// ---- Next invoice ----------------------------------------------------------------------------------

export function NextInvoiceCard({ upcoming, currency }: { upcoming: UpcomingInvoice; currency: string }) {
  return (
    <section class="card bill-upcoming" aria-labelledby="bill-upcoming-title">
      <div class="bill-card-head">
        <h2 class="bill-card-title" id="bill-upcoming-title">
          Next invoice
        </h2>
        <span class="bill-muted">{formatDay(upcoming.at)}</span>
      </div>
      <p class="bill-upcoming-amount">{formatMoney(upcoming.amount_due, currency)}</p>
      <details class="bill-next">
        <summary>
          <span>What's on it</span>
        </summary>
        <Lines
          caption="Lines of the next invoice"
          lines={upcoming.lines}
          currency={currency}
          totals={{ subtotal: upcoming.subtotal, tax: upcoming.tax, applied_balance: upcoming.total - upcoming.amount_due, total: upcoming.amount_due, totalLabel: 'Amount due' }}
        />
      </details>
    </section>
  );
}

// ---- Usage -----------------------------------------------------------------------------------------

export function UsageCard({ overview }: { overview: BillingOverview }) {
  const currency = overview.currency;
  if (overview.usage.length === 0) return null;
  if (overview.billing_mode === 'parent') return <OwnUsageCard overview={overview} />;
  const usage = overview.usage as UsageMeter[];
  const sub = overview.subscription;
  const overage = usage.reduce((n, u) => n + u.overage_amount, 0);
  return (
    <section class="card bill-usage" aria-labelledby="bill-usage-title">
      <header class="card-header">
        <div class="card-heading">
          <h2 class="card-title" id="bill-usage-title">
            Usage this period
          </h2>
          <p class="card-description">
            {sub?.current_period_start && sub.current_period_end
              ? `${formatDay(sub.current_period_start)} – ${formatDay(sub.current_period_end)}. `
              : ''}
            Usage above what the plan includes is billed on the next invoice.
          </p>
        </div>
        <div class="bill-usage-total">
          <span class="bill-muted">Overage so far</span>
          <strong>{formatMoney(overage, currency)}</strong>
        </div>
      </header>
      <ul class="bill-meters" role="list">
        {usage.map((u) => {
          const over = u.overage > 0;
          const near = !over && u.included > 0 && u.used >= u.included * 0.8;
          return (
            <li key={u.metric} class="bill-meter" data-metric={u.metric}>
              <div class="bill-meter-head">
                <span class="bill-meter-name">{u.name}</span>
                <span class="bill-meter-count">
                  <strong>{formatCount(u.used)}</strong> of {unitText(u.included, u.unit)}
                </span>
              </div>
              <Bar
                value={u.used}
                max={u.included}
                tone={over ? 'danger' : near ? 'warning' : undefined}
                label={`${u.name} used`}
                text={`${formatCount(u.used)} of ${unitText(u.included, u.unit)} included`}
              />
              <p class="bill-meter-foot">
                {over ? (
                  <>
                    <span class="bill-over">
                      {unitText(u.overage, u.unit)} over · {formatMoney(u.overage_amount, currency)}
                    </span>
                    <span class="bill-muted">{unitPriceText(u, currency)}</span>
                  </>
                ) : (
                  <>
                    <span class="bill-muted">{unitText(Math.max(0, u.included - u.used), u.unit)} left</span>
                    <span class="bill-muted">Then {unitPriceText(u, currency)}</span>
                  </>
                )}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** A sub-account billed by its agency: its own usage this period, without the agency's allowance or amounts. */
function OwnUsageCard({ overview }: { overview: BillingOverview }) {
  const usage = overview.usage as UsageCount[];
  return (
    <section class="card bill-usage" aria-labelledby="bill-usage-title">
      <header class="card-header">
        <div class="card-heading">
          <h2 class="card-title" id="bill-usage-title">
            Usage this period
          </h2>
          <p class="card-description">What this workspace used. It is billed by {overview.billed_by_name}.</p>
        </div>
      </header>
      <ul class="bill-meters" role="list">
        {usage.map((u) => (
          <li key={u.metric} class="bill-meter" data-metric={u.metric}>
            <div class="bill-meter-head">
              <span class="bill-meter-name">{u.name}</span>
              <span class="bill-meter-count">
                <strong>{unitText(u.used, u.unit)}</strong>
              </span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
