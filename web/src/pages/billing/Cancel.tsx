// Cancelling (at the end of the period, or right away, with a reason) and resuming a subscription.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { billingApi, type Subscription } from '../../api-billing';
import { Alert, Button, Card, Dialog, TextArea } from '../../ui';
import { formatDay, problemText } from './model';

export function CancelCard({
  sub,
  busy,
  onCancel,
  onResume,
}: {
  sub: Subscription;
  busy: boolean;
  onCancel: () => void;
  onResume: () => void;
}) {
  const ending = sub.cancel_at_period_end;
  const end = sub.status === 'trialing' ? sub.trial_end : sub.current_period_end;
  return (
    <Card class="bill-danger">
      <div class="bill-danger-row">
        <div>
          <h2 class="bill-danger-title">{ending ? 'Subscription ending' : 'Cancel subscription'}</h2>
          <p class="bill-muted">
            {ending
              ? `${sub.plan_name} ends on ${formatDay(end)}. Resume it to keep it; nothing changes until then either way.`
              : `Stop ${sub.plan_name} at the end of this period (${formatDay(end)}) or right away. Your data stays; the workspace moves to the free plan.`}
          </p>
        </div>
        {ending ? (
          <Button variant="primary" loading={busy} onClick={onResume}>
            Resume subscription
          </Button>
        ) : (
          <Button variant="secondary" class="btn-danger-outline" onClick={onCancel}>
            Cancel subscription…
          </Button>
        )}
      </div>
    </Card>
  );
}

export function CancelDialog({
  wsId,
  sub,
  open,
  onClose,
  onDone,
}: {
  wsId: string;
  sub: Subscription | null;
  open: boolean;
  onClose: () => void;
  onDone: (s: Subscription, atPeriodEnd: boolean) => void;
}) {
  const [when, setWhen] = useState<'period_end' | 'now'>('period_end');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const keepRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    setWhen('period_end');
    setReason('');
    setError(null);
  }, [open]);

  if (!sub) return null;
  const end = sub.status === 'trialing' ? sub.trial_end : sub.current_period_end;
  const canAtEnd = sub.status === 'trialing' || sub.status === 'active' || sub.status === 'past_due';
  const atEnd = when === 'period_end' && canAtEnd;

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await billingApi.cancel(wsId, atEnd, reason.trim());
      onDone(r.subscription, atEnd);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { title: "Couldn't cancel" }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      onClose={() => !busy && onClose()}
      dismissable={!busy}
      role="alertdialog"
      title={`Cancel ${sub.plan_name}?`}
      initialFocus={keepRef}
      description={<p>Your members, settings and invoices stay. Paid features stop when the subscription ends.</p>}
      footer={
        <>
          <Button ref={keepRef} onClick={onClose} disabled={busy}>
            Keep subscription
          </Button>
          <Button variant="danger" loading={busy} onClick={() => void submit()}>
            {atEnd ? 'Cancel at period end' : 'Cancel now'}
          </Button>
        </>
      }
    >
      <div class="dialog-form">
        <fieldset class="bill-fieldset">
          <legend class="field-label">When</legend>
          <div class="bill-mode-list">
            <label class={['bill-mode', atEnd && 'is-selected', !canAtEnd && 'is-disabled'].filter(Boolean).join(' ')}>
              <input
                type="radio"
                name="cancel-when"
                value="period_end"
                checked={atEnd}
                disabled={!canAtEnd || busy}
                onChange={() => setWhen('period_end')}
              />
              <span class="bill-mode-text">
                <span class="bill-mode-label">At the end of the period</span>
                <span class="bill-mode-hint">Keep everything until {formatDay(end)}. You can resume before then.</span>
              </span>
            </label>
            <label class={['bill-mode', !atEnd && 'is-selected'].filter(Boolean).join(' ')}>
              <input type="radio" name="cancel-when" value="now" checked={!atEnd} disabled={busy} onChange={() => setWhen('now')} />
              <span class="bill-mode-text">
                <span class="bill-mode-label">Right away</span>
                <span class="bill-mode-hint">
                  Paid features stop now. Unbilled usage and pending changes go on a final invoice; the time already paid is not refunded.
                </span>
              </span>
            </label>
          </div>
        </fieldset>
        <TextArea
          name="reason"
          label="Why are you canceling?"
          optional
          value={reason}
          onValue={setReason}
          maxLength={500}
          counter
          rows={3}
          hint="It helps us improve. Only the team that runs this Atrium sees it."
        />
        {error && (
          <Alert tone="danger" title="The subscription was not canceled">
            {problemText(error)}
          </Alert>
        )}
      </div>
    </Dialog>
  );
}
