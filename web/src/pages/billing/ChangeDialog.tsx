// Changing the subscription: seats, plan or billing interval. Every edit asks the server for a preview
// (debounced), which prices the change exactly: what is due now with its proration lines, tax and
// credit, and the next invoice. Confirming sends the preview's proration mode and proration_date back,
// so the invoice equals what was shown.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import {
  billingApi,
  idempotencyKey,
  type BillingOverview,
  type ChangeRequest,
  type ChangeResult,
  type Interval,
  type Plan,
  type Preview,
  type Proration,
} from '../../api-billing';
import { Alert, Button, Dialog, IconAlert, Spinner } from '../../ui';
import { Lines } from './Lines';
import { formatDay, formatMoney, INTERVAL_LABEL, PER, planAmount, plural, problemText, seatRange } from './model';
import { SeatStepper } from './SeatStepper';

export type ChangeKind = 'seats' | 'plan' | 'interval';

export interface ChangeTarget {
  kind: ChangeKind;
  plan_id: string;
  interval: Interval;
  quantity: number;
}

const DEBOUNCE_MS = 300;

const MODES: { id: Proration; label: string }[] = [
  { id: 'invoice_now', label: 'Invoice now' },
  { id: 'prorate', label: 'Add to next invoice' },
  { id: 'at_renewal', label: 'At renewal' },
];

interface ChangeDialogProps {
  wsId: string;
  overview: BillingOverview;
  plans: Plan[];
  target: ChangeTarget | null;
  onClose: () => void;
  onDone: (result: ChangeResult, preview: Preview, target: ChangeTarget) => void;
}

export function ChangeDialog(props: ChangeDialogProps) {
  // A fresh dialog per change, so its fields start from the target and the first field can take focus.
  if (!props.target) return null;
  return <ChangeDialogOpen key={JSON.stringify(props.target)} {...props} target={props.target} />;
}

function ChangeDialogOpen({ wsId, overview, plans, target, onClose, onDone }: ChangeDialogProps & { target: ChangeTarget }) {
  const sub = overview.subscription;
  const currency = overview.currency;
  const [planId] = useState(target.plan_id);
  const [interval, setInterval] = useState<Interval>(target.interval);
  const [qtyText, setQtyText] = useState(String(target.quantity));
  const [choice, setChoice] = useState<Proration | null>(null);
  const [preview, setPreview] = useState<{ key: string; doc: Preview } | null>(null);
  const [previewError, setPreviewError] = useState<ApiError | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState<ApiError | null>(null);
  const attempt = useRef(idempotencyKey());
  const seatsRef = useRef<HTMLInputElement>(null);

  const plan = plans.find((p) => p.id === planId) ?? (overview.plan?.id === planId ? overview.plan : undefined);
  const range = plan ? seatRange(plan, overview.seats.used) : { min: 1, max: 1 };
  const qty = /^\d+$/.test(qtyText.trim()) ? parseInt(qtyText.trim(), 10) : NaN;
  const qtyError = !qtyText.trim()
    ? 'Enter a number of seats.'
    : Number.isNaN(qty)
      ? 'Use a whole number.'
      : plan && qty > plan.max_seats
        ? `The ${plan.name} plan takes at most ${plan.max_seats} seats.`
        : plan && qty < plan.min_seats
          ? `The ${plan.name} plan takes at least ${plan.min_seats} seats.`
          : qty < overview.seats.used
            ? `${plural(overview.seats.used, 'seat is', 'seats are')} in use (members and pending invitations). Remove some first.`
            : undefined;

  // Which modes the direction allows: yearly to monthly only at renewal; to yearly not spread over the next invoice.
  const toMonthly = !!sub && sub.interval === 'year' && interval === 'month';
  const toYearly = !!sub && sub.interval === 'month' && interval === 'year';
  const allowed = (m: Proration) => (toMonthly ? m === 'at_renewal' : toYearly ? m !== 'prorate' : true);
  useEffect(() => {
    if (choice && !allowed(choice)) setChoice(null);
  }, [interval]);

  const changed = !!sub && (planId !== sub.plan_id || interval !== sub.interval || qty !== sub.quantity);
  const request: ChangeRequest | null =
    sub && plan && !qtyError && changed
      ? { plan_id: planId, interval, quantity: qty, ...(choice ? { proration: choice } : {}) }
      : null;
  const requestKey = request ? JSON.stringify(request) : '';

  useEffect(() => {
    if (!request) {
      setPreviewing(false);
      return;
    }
    const ctl = new AbortController();
    setPreviewing(true);
    const timer = window.setTimeout(() => {
      billingApi
        .preview(wsId, request, ctl.signal)
        .then((doc) => {
          setPreview({ key: requestKey, doc });
          setPreviewError(null);
        })
        .catch((e) => {
          if (e instanceof DOMException && e.name === 'AbortError') return;
          setPreview(null);
          setPreviewError(e instanceof ApiError ? e : new ApiError(0, { title: "Couldn't price this change" }));
        })
        .finally(() => {
          if (!ctl.signal.aborted) setPreviewing(false);
        });
    }, DEBOUNCE_MS);
    return () => {
      window.clearTimeout(timer);
      ctl.abort();
    };
  }, [requestKey]);

  const current = preview && preview.key === requestKey ? preview.doc : null;
  const mode = choice ?? (current && current.proration !== 'trial' ? current.proration : null);
  const trial = current?.proration === 'trial' || sub?.status === 'trialing';
  const fieldError = previewError?.fieldError('quantity')?.message;
  const stateError = previewError && !fieldError ? previewError : null;
  const periodEnd = sub?.current_period_end ?? null;

  const apply = async () => {
    if (!current || !request) return;
    setApplying(true);
    setApplyError(null);
    try {
      const body: ChangeRequest = {
        plan_id: request.plan_id,
        interval: request.interval,
        quantity: request.quantity,
        proration_date: current.proration_date,
        ...(current.proration !== 'trial' ? { proration: current.proration } : {}),
      };
      const r = await billingApi.change(wsId, body, attempt.current);
      onDone(r, current, target);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, { title: "Couldn't change the subscription" });
      setApplyError(err);
      attempt.current = idempotencyKey();
      // The period moved on or someone else changed it: price it again.
      if (err.status === 400 || err.status === 409) setPreview(null);
      if (err.status === 400 || err.status === 409) setPreviewError(null);
    } finally {
      setApplying(false);
    }
  };

  const title = !plan
      ? 'Change subscription'
      : target.kind === 'seats'
        ? 'Change seats'
        : target.kind === 'interval'
          ? `Switch to ${INTERVAL_LABEL[interval].toLowerCase()} billing`
          : `Change to ${plan.name}`;

  const now = sub ? planAmount(plans.find((p) => p.id === sub.plan_id) ?? overview.plan!, sub.interval, sub.quantity) : 0;
  const canConfirm = !!current && !previewing && !applying && changed;
  const summary = useMemo(() => {
    if (!current) return '';
    const when = current.effective === 'now' ? 'takes effect now' : `takes effect on ${formatDay(periodEnd)}`;
    return `${formatMoney(current.amount_due_now, currency)} due now; the change ${when}. Next invoice on ${formatDay(
      current.next_invoice.at,
    )}: ${formatMoney(current.next_invoice.amount, currency)}.`;
  }, [current, currency, periodEnd]);

  return (
    <Dialog
      open
      onClose={() => !applying && onClose()}
      dismissable={!applying}
      size="lg"
      title={title}
      initialFocus={target.kind === 'interval' ? undefined : seatsRef}
      closeLabel="Close"
      description={
        sub && (
          <p>
            Now: <strong>{sub.plan_name}</strong>, {plural(sub.quantity, 'seat')}, billed {INTERVAL_LABEL[sub.interval].toLowerCase()} (
            {formatMoney(now, currency)} / {PER[sub.interval]}).
            {target.kind === 'plan' && (
              <>
                {' '}
                Upgrades take effect right away and the difference for the rest of this period is charged now. Downgrades take effect at the
                end of the period{periodEnd ? ` (${formatDay(periodEnd)})` : ''}, so you keep what you already paid for.
              </>
            )}
          </p>
        )
      }
      footer={
        <>
          <Button onClick={onClose} disabled={applying}>
            Cancel
          </Button>
          <Button
            variant="primary"
            loading={applying}
            disabled={!canConfirm}
            onClick={() => void apply()}
          >
            {current?.effective === 'period_end' ? 'Schedule change' : 'Confirm change'}
          </Button>
        </>
      }
    >
      <div class="bill-change">
        <div class="bill-change-inputs">
          {target.kind !== 'interval' && plan && (
            <SeatStepper
              ref={seatsRef}
              value={qtyText}
              onValue={setQtyText}
              min={range.min}
              max={range.max}
              error={fieldError ?? (qtyText.trim() ? qtyError : undefined)}
              hint={`${plural(overview.seats.used, 'seat')} in use. The ${plan.name} plan takes ${plan.min_seats}–${plan.max_seats} seats.`}
            />
          )}
          {target.kind === 'plan' && (
            <fieldset class="bill-fieldset">
              <legend class="field-label">Billing interval</legend>
              <div class="bill-segmented" role="presentation">
                {(['month', 'year'] as Interval[]).map((i) => (
                  <label key={i} class={interval === i ? 'bill-segment is-selected' : 'bill-segment'}>
                    <input
                      type="radio"
                      name="change-interval"
                      value={i}
                      checked={interval === i}
                      onChange={() => setInterval(i)}
                    />
                    {INTERVAL_LABEL[i]}
                  </label>
                ))}
              </div>
            </fieldset>
          )}
        </div>

        {!trial && (
          <fieldset class="bill-fieldset bill-modes">
            <legend class="field-label">When to bill the change</legend>
            <div class="bill-mode-list">
              {MODES.map((m) => {
                const ok = allowed(m.id);
                return (
                  <label key={m.id} class={['bill-mode', mode === m.id && 'is-selected', !ok && 'is-disabled'].filter(Boolean).join(' ')}>
                    <input
                      type="radio"
                      name="proration"
                      value={m.id}
                      checked={mode === m.id}
                      disabled={!ok || applying}
                      onChange={() => setChoice(m.id)}
                    />
                    <span class="bill-mode-text">
                      <span class="bill-mode-label">{m.label}</span>
                      <span class="bill-mode-hint">
                        {m.id === 'invoice_now'
                          ? 'Charge the difference for the rest of this period on an invoice today.'
                          : m.id === 'prorate'
                            ? `Add the difference to the next invoice${periodEnd ? ` on ${formatDay(periodEnd)}` : ''}.`
                            : `Nothing now: the change starts when the period renews${periodEnd ? ` on ${formatDay(periodEnd)}` : ''}.`}
                      </span>
                    </span>
                  </label>
                );
              })}
            </div>
            {toMonthly && <p class="field-hint">Moving from yearly to monthly billing takes effect at the end of the paid year.</p>}
            {toYearly && <p class="field-hint">A yearly plan starts a new year: invoiced now, or at renewal.</p>}
          </fieldset>
        )}

        <section class={previewing ? 'bill-preview is-busy' : 'bill-preview'} aria-label="Price of the change" aria-busy={previewing}>
          {applyError && (
            <Alert tone="danger" title="The change was not made" class="bill-preview-alert">
              {problemText(applyError)} The price has been refreshed; check it and confirm again.
            </Alert>
          )}
          {stateError ? (
            <Alert
              tone={stateError.status === 400 || stateError.status === 409 ? 'warning' : 'danger'}
              title={
                stateError.type === 'urn:atrium:problem:no-change'
                  ? 'Nothing to change'
                  : stateError.status === 400 || stateError.status === 409
                    ? "This change isn't possible"
                    : "Couldn't price this change"
              }
            >
              {problemText(stateError)}
            </Alert>
          ) : !request ? (
            <p class="bill-preview-empty">
              <IconAlert size={16} />
              {qtyError ? 'Enter a valid number of seats to see the price.' : 'Choose a different number of seats to see the price.'}
            </p>
          ) : !current ? (
            <div class="bill-preview-loading">
              <Spinner size={18} label="Calculating the price" />
              <span>Calculating…</span>
            </div>
          ) : (
            <>
              {trial && (
                <Alert tone="info" title="You're in your free trial" class="bill-preview-alert">
                  The change applies right away and nothing is charged now. The first invoice is issued when the trial ends
                  {sub?.trial_end ? ` on ${formatDay(sub.trial_end)}` : ''}.
                </Alert>
              )}
              <div class="bill-due">
                <div>
                  <p class="bill-due-label">Due now</p>
                  <p class="bill-due-note">
                    {current.effective === 'now'
                      ? current.proration === 'prorate'
                        ? 'The difference is added to your next invoice.'
                        : current.amount_due_now > 0
                          ? 'On an invoice issued today.'
                          : 'Takes effect right away.'
                      : `Takes effect on ${formatDay(periodEnd)}.`}
                  </p>
                </div>
                <p class="bill-due-amount" data-testid="amount-due-now">
                  {formatMoney(current.amount_due_now, currency)}
                  {previewing && <Spinner size={14} label="Updating the price" />}
                </p>
              </div>
              {current.lines.length > 0 && (
                <Lines
                  caption={current.proration === 'prorate' ? 'Prorations added to the next invoice' : 'Charges of the change'}
                  lines={current.lines}
                  currency={currency}
                  totals={
                    current.proration === 'invoice_now'
                      ? {
                          subtotal: current.subtotal,
                          tax: current.tax,
                          applied_balance: current.applied_balance,
                          total: current.amount_due_now,
                          totalLabel: 'Due now',
                        }
                      : undefined
                  }
                />
              )}
              {current.credit_to_balance > 0 && (
                <p class="bill-credit">
                  {formatMoney(current.credit_to_balance, currency)} is credited to your balance and taken off your next invoices.
                </p>
              )}
              <details class="bill-next">
                <summary>
                  <span>Next invoice on {formatDay(current.next_invoice.at)}</span>
                  <strong data-testid="next-invoice-amount">{formatMoney(current.next_invoice.amount, currency)}</strong>
                </summary>
                <Lines caption="Lines of the next invoice" lines={current.next_invoice.lines} currency={currency} />
              </details>
            </>
          )}
          <p class="visually-hidden" role="status" aria-live="polite">
            {summary}
          </p>
        </section>
      </div>
    </Dialog>
  );
}
