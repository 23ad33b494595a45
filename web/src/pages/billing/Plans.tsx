// Plan comparison: the offered plans side by side for monthly or yearly billing, with the way to change
// to one (a priced preview first) or, without a live subscription, to start one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { billingApi, idempotencyKey, type BillingOverview, type Interval, type Plan, type Subscription } from '../../api-billing';
import { Alert, Badge, Button, Dialog, IconCheck } from '../../ui';
import {
  featureName,
  formatMoney,
  formatPrice,
  INTERVAL_LABEL,
  PER,
  planAmount,
  plural,
  problemText,
  seatRange,
  statusPhrase,
  unitPriceText,
  unitText,
  yearlySaving,
} from './model';
import { SeatStepper } from './SeatStepper';

export function IntervalSwitch({ value, onValue, saving }: { value: Interval; onValue: (i: Interval) => void; saving: number }) {
  return (
    <fieldset class="bill-fieldset">
      <legend class="visually-hidden">Show prices for</legend>
      <div class="bill-segmented">
        {(['month', 'year'] as Interval[]).map((i) => (
          <label key={i} class={value === i ? 'bill-segment is-selected' : 'bill-segment'}>
            <input type="radio" name="plans-interval" value={i} checked={value === i} onChange={() => onValue(i)} />
            {INTERVAL_LABEL[i]}
            {i === 'year' && saving > 0 && <span class="bill-save">−{saving}%</span>}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function PlansCard({
  overview,
  plans,
  canWrite,
  onChange,
  onSubscribe,
}: {
  overview: BillingOverview;
  plans: Plan[];
  canWrite: boolean;
  onChange: (plan: Plan, interval: Interval) => void;
  onSubscribe: (plan: Plan, interval: Interval) => void;
}) {
  const sub = overview.subscription;
  const live = !!sub && sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
  const [interval, setInterval] = useState<Interval>(sub?.interval ?? 'month');
  useEffect(() => {
    if (sub) setInterval(sub.interval);
  }, [sub?.interval]);
  const currency = overview.currency;
  const changeable = live && (sub!.status === 'active' || sub!.status === 'trialing');
  const saving = Math.max(0, ...plans.map(yearlySaving));
  const currentAmount = live ? planAmount(plans.find((p) => p.id === sub!.plan_id) ?? overview.plan!, sub!.interval, sub!.quantity) : 0;

  return (
    <section class="card bill-plans-card" id="plans" tabIndex={-1} aria-labelledby="bill-plans-title">
      <header class="card-header">
        <div class="card-heading">
          <h2 class="card-title" id="bill-plans-title">
            Plans
          </h2>
          <p class="card-description">
            {live
              ? 'Upgrades take effect right away, with the difference for the rest of the period charged now. Downgrades take effect at the end of the period.'
              : 'Pick the plan that fits your team. You can change it or the number of seats at any time.'}
          </p>
        </div>
        <div class="card-actions">
          <IntervalSwitch value={interval} onValue={setInterval} saving={saving} />
        </div>
      </header>
      {live && !changeable && canWrite && (
        <Alert tone="warning" class="bill-plans-alert" title={(overview.banner?.overdue?.invoices.length ?? 0) > 1 ? 'Settle the overdue invoices first' : 'Settle the open invoice first'}>
          {statusPhrase(sub!.status, { start: true })} can't change plans. Once the overdue invoices are paid you can change again.
        </Alert>
      )}
      <div class="bill-plans">
        {plans.map((p) => {
          const current = live && p.id === sub!.plan_id;
          const sameInterval = current && sub!.interval === interval;
          const qty = live ? Math.min(p.max_seats, Math.max(sub!.quantity, p.min_seats)) : p.min_seats;
          const amount = planAmount(p, interval, qty);
          const monthlyEquivalent = live ? planAmount(p, sub!.interval, qty) : 0;
          const direction = !live || current ? null : monthlyEquivalent >= currentAmount ? 'Upgrade' : 'Downgrade';
          const price = p.prices[interval];
          return (
            <article
              key={p.id}
              class={current ? 'bill-option is-current' : 'bill-option'}
              aria-labelledby={`bill-option-${p.id}`}
              data-plan={p.id}
            >
              <div class="bill-option-head">
                <h3 class="bill-option-name" id={`bill-option-${p.id}`}>
                  {p.name}
                </h3>
                {current && <Badge tone="accent">Current plan</Badge>}
              </div>
              <p class="bill-option-desc">{p.description}</p>
              <p class="bill-option-price">
                {price.per_seat ? (
                  <>
                    <strong>{formatPrice(price.per_seat, currency)}</strong>
                    <span>per seat / {PER[interval]}</span>
                  </>
                ) : (
                  <>
                    <strong>{formatPrice(price.base, currency)}</strong>
                    <span>/ {PER[interval]}</span>
                  </>
                )}
              </p>
              <p class="bill-option-sub">
                {price.base && price.per_seat
                  ? `${formatPrice(price.base, currency)} / ${PER[interval]} base, ${p.included_seats} seats included`
                  : p.trial_days
                    ? `${p.trial_days}-day free trial`
                    : '\u00a0'}
              </p>
              <ul class="bill-option-list">
                <li>
                  <IconCheck size={14} />
                  {p.min_seats === p.max_seats ? plural(p.min_seats, 'seat') : `${p.min_seats}–${p.max_seats} seats`}
                </li>
                {p.features.map((f) => (
                  <li key={f}>
                    <IconCheck size={14} />
                    {featureName(f, p)}
                  </li>
                ))}
                {p.metered.map((m) => (
                  <li key={m.id}>
                    <IconCheck size={14} />
                    <span>
                      {unitText(m.included, m.unit)} <span class="bill-muted">then {unitPriceText(m, currency)}</span>
                    </span>
                  </li>
                ))}
              </ul>
              <div class="bill-option-foot">
                <p class="bill-option-total">
                  {plural(qty, 'seat')}: <strong>{formatMoney(amount, currency)}</strong> / {PER[interval]}
                </p>
                {canWrite &&
                  (!live ? (
                    <Button variant="primary" block onClick={() => onSubscribe(p, interval)}>
                      Choose {p.name}
                    </Button>
                  ) : sameInterval ? (
                    <Button block disabled>
                      Your current plan
                    </Button>
                  ) : current ? (
                    <Button variant="primary" block disabled={!changeable} onClick={() => onChange(p, interval)}>
                      Switch to {INTERVAL_LABEL[interval].toLowerCase()} billing
                    </Button>
                  ) : (
                    <Button
                      variant={direction === 'Upgrade' ? 'primary' : 'secondary'}
                      block
                      disabled={!changeable}
                      onClick={() => onChange(p, interval)}
                    >
                      {direction} to {p.name}
                    </Button>
                  ))}
              </div>
            </article>
          );
        })}
      </div>
    </section>
  );
}

/** Starting a subscription when there is no live one: plan, interval, seats, the price, then confirm. */
interface SubscribeProps {
  wsId: string;
  overview: BillingOverview;
  plans: Plan[];
  target: { plan: Plan; interval: Interval } | null;
  onClose: () => void;
  onDone: (s: Subscription) => void;
}

export function SubscribeDialog(props: SubscribeProps) {
  if (!props.target) return null;
  return <SubscribeDialogOpen key={`${props.target.plan.id}/${props.target.interval}`} {...props} target={props.target} />;
}

function SubscribeDialogOpen({ wsId, overview, plans, target, onClose, onDone }: SubscribeProps & { target: { plan: Plan; interval: Interval } }) {
  const plan = plans.find((p) => p.id === target.plan.id) ?? target.plan;
  const range = seatRange(plan, overview.seats.used);
  const [interval, setInterval] = useState<Interval>(target.interval);
  const [qtyText, setQtyText] = useState(String(Math.min(range.max, range.min)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const key = useRef(idempotencyKey());
  const seatsRef = useRef<HTMLInputElement>(null);

  const qty = /^\d+$/.test(qtyText.trim()) ? parseInt(qtyText, 10) : NaN;
  const qtyError = Number.isNaN(qty)
    ? 'Enter a whole number of seats.'
    : qty < range.min
      ? `At least ${range.min} seats: ${plural(overview.seats.used, 'seat is', 'seats are')} in use and the plan takes ${plan.min_seats} or more.`
      : qty > range.max
        ? `The ${plan.name} plan takes at most ${range.max} seats.`
        : undefined;
  const currency = overview.currency;

  const submit = async () => {
    if (qtyError) return;
    setBusy(true);
    setError(null);
    try {
      const r = await billingApi.subscribe(wsId, { plan_id: plan.id, interval, quantity: qty }, key.current);
      onDone(r.subscription);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { title: "Couldn't start the subscription" }));
      key.current = idempotencyKey();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open
      onClose={() => !busy && onClose()}
      dismissable={!busy}
      title={`Start the ${plan.name} plan`}
      initialFocus={seatsRef}
      closeLabel="Close"
      description={plan.description}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" loading={busy} disabled={!!qtyError} onClick={() => void submit()}>
            Start {plan.name}
          </Button>
        </>
      }
    >
      <div class="bill-change">
        <div class="bill-change-inputs">
          <SeatStepper ref={seatsRef} value={qtyText} onValue={setQtyText} min={range.min} max={range.max} error={error?.fieldError('quantity')?.message ?? qtyError} />
          <fieldset class="bill-fieldset">
            <legend class="field-label">Billing interval</legend>
            <div class="bill-segmented">
              {(['month', 'year'] as Interval[]).map((i) => (
                <label key={i} class={interval === i ? 'bill-segment is-selected' : 'bill-segment'}>
                  <input type="radio" name="subscribe-interval" value={i} checked={interval === i} onChange={() => setInterval(i)} />
                  {INTERVAL_LABEL[i]}
                </label>
              ))}
            </div>
          </fieldset>
        </div>
        <div class="bill-preview">
          <div class="bill-due">
            <div>
              <p class="bill-due-label">Price</p>
              <p class="bill-due-note">
                {plan.trial_days > 0
                  ? `New workspaces start with a ${plan.trial_days}-day free trial; the first invoice follows it. Otherwise it is issued today.`
                  : 'The first invoice is issued today.'}
              </p>
            </div>
            <p class="bill-due-amount">
              {qtyError ? '—' : formatMoney(planAmount(plan, interval, qty), currency)}
              <span class="bill-due-per"> / {PER[interval]}</span>
            </p>
          </div>
        </div>
        {error && !error.fieldError('quantity') && (
          <Alert tone="danger" title="The subscription was not started">
            {problemText(error)}
          </Alert>
        )}
      </div>
    </Dialog>
  );
}
