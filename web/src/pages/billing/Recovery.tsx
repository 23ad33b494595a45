// Billing Recovery (developer access): how unpaid invoices are chased (the dunning ladder as a
// timeline), what is past due now in this workspace and its sub-accounts (retry now, mark recovered),
// the recovery rate, and the test clock that moves billing time, which is how demos and tests reach
// trial ends, renewals and due dates.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { billingApi, type PastDue, type Recovery, type TestClock } from '../../api-billing';
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  IconCheck,
  IconClock,
  IconMail,
  IconPause,
  IconRefresh,
  PageHeader,
  Spinner,
  Table,
  useToast,
  type Column,
} from '../../ui';
import { workspaceName } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { addMonths, daysText, daysUntil, formatDay, formatMoment, formatMoney, mailName, problemText, statusBadge } from './model';
import './billing.css';

export function BillingRecovery({ wsId, section, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const toast = useToast();
  const canWrite = section.access === 'write';
  const [data, setData] = useState<Recovery | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  const [recovering, setRecovering] = useState<PastDue | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    billingApi
      .recovery(wsId, ctl.signal)
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
  }, [wsId, version]);

  const refresh = () => setVersion((v) => v + 1);

  const retry = async (p: PastDue) => {
    setBusy(`retry:${p.subscription_id}`);
    try {
      await billingApi.retry(wsId, p.subscription_id);
      toast({
        title: `Retry started for ${p.workspace_name}`,
        description: 'A payment attempt is queued; for invoices paid by bank transfer, a reminder email goes out instead.',
      });
      refresh();
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't retry", description: problemText(e) });
      refresh();
    } finally {
      setBusy(null);
    }
  };

  const recovered = async () => {
    if (!recovering) return;
    const p = recovering;
    setBusy(`recovered:${p.subscription_id}`);
    try {
      await billingApi.recovered(wsId, p.subscription_id);
      toast({ title: `${p.workspace_name} is recovered`, description: `${p.invoice_number ?? 'The invoice'} is marked paid.` });
      setRecovering(null);
      refresh();
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't mark it recovered", description: problemText(e) });
      setRecovering(null);
      refresh();
    } finally {
      setBusy(null);
    }
  };

  const currency = data?.currency ?? 'USD';
  const columns: Column<PastDue>[] = [
    {
      key: 'ws',
      header: 'Workspace',
      primary: true,
      render: (p) => {
        const b = statusBadge(p.status);
        return (
          <span class="bill-inv-cell">
            <strong>{p.workspace_name}</strong>
            <span class="bill-muted">
              {p.invoice_number ?? 'No invoice'} · {p.plan_id}
            </span>
            <span>
              <Badge tone={b.tone} dot>
                {b.label}
              </Badge>
            </span>
          </span>
        );
      },
    },
    {
      key: 'due',
      header: 'Amount due',
      align: 'end',
      class: 'bill-num',
      render: (p) => (
        <span class="bill-inv-cell">
          <strong>{formatMoney(p.amount_due, currency)}</strong>
          <span class="bill-muted">since {formatDay(p.past_due_since)}</span>
        </span>
      ),
    },
    {
      key: 'step',
      header: 'Ladder',
      render: (p) => {
        const next = data?.ladder[p.step];
        // The same outcome the rate counts: once the ladder has run out the episode is lost, though the
        // invoice stays open until it is paid, voided or marked recovered.
        if (p.outcome === 'lost')
          return (
            <span class="bill-inv-cell" data-testid="recovery-outcome">
              <span>Ladder ended · counted as lost</span>
              <span class="bill-muted">
                {p.attempts} attempt{p.attempts === 1 ? '' : 's'} · no more retries
              </span>
            </span>
          );
        return (
          <span class="bill-inv-cell" data-testid="recovery-outcome">
            <span>
              Step {Math.min(p.step + 1, p.ladder_steps)} of {p.ladder_steps}
              {next ? ` · day ${next.day}` : ''}
            </span>
            <span class="bill-muted">
              {p.attempts} attempt{p.attempts === 1 ? '' : 's'}
              {p.next_attempt_at ? ` · next ${formatDay(p.next_attempt_at)}` : ''}
            </span>
          </span>
        );
      },
    },
    {
      key: 'actions',
      header: 'Actions',
      hideHeader: true,
      align: 'end',
      render: (p) =>
        canWrite && (
          <div class="rec-actions">
            <Button
              size="sm"
              icon={<IconRefresh size={14} />}
              loading={busy === `retry:${p.subscription_id}`}
              disabled={!!busy && busy !== `retry:${p.subscription_id}`}
              onClick={() => void retry(p)}
            >
              Retry now<span class="visually-hidden"> for {p.workspace_name}</span>
            </Button>
            <Button size="sm" icon={<IconCheck size={14} />} disabled={!!busy} onClick={() => setRecovering(p)}>
              Mark recovered<span class="visually-hidden"> for {p.workspace_name}</span>
            </Button>
          </div>
        ),
    },
  ];

  const rate = data?.rate;
  const focus = data?.past_due.find((p) => p.workspace_id === wsId) ?? data?.past_due[0];

  return (
    <>
      <PageHeader
        title={section.title}
        description={`How unpaid invoices of ${name} and its sub-accounts are recovered: the ladder of retries and reminders, what is past due now, and a test clock to move billing time.`}
      />
      {!data ? (
        error ? (
          <ErrorState error={error} title="Couldn't load Billing Recovery" onRetry={refresh} retrying={loading} />
        ) : (
          <div class="page-spinner">
            <Spinner size={24} label="Loading Billing Recovery" />
          </div>
        )
      ) : (
        <div class="rec-layout">
          <div class="rec-main">
            <section class="rec-stats" aria-label="Recovery rate">
              <div class="rec-stat is-primary">
                <span class="rec-stat-label">Recovery rate</span>
                <strong class="rec-stat-value" data-testid="recovery-rate">
                  {rate?.rate == null ? '—' : `${Math.round(rate.rate * 100)}%`}
                </strong>
                <span class="bill-muted">of closed episodes</span>
              </div>
              <div class="rec-stat">
                <span class="rec-stat-label">Recovered</span>
                <strong class="rec-stat-value">{rate?.recovered ?? 0}</strong>
              </div>
              <div class="rec-stat">
                <span class="rec-stat-label">Lost</span>
                <strong class="rec-stat-value">{rate?.lost ?? 0}</strong>
              </div>
              <div class="rec-stat">
                <span class="rec-stat-label">In recovery</span>
                <strong class="rec-stat-value">{rate?.open ?? 0}</strong>
              </div>
            </section>

            <Card flush title="Past due" description="Subscriptions with an unpaid invoice, oldest first: in recovery while the ladder runs, lost once it has run out." class="rec-pastdue">
              {data.past_due.length > 0 ? (
                <Table caption="Past-due subscriptions" columns={columns} rows={data.past_due} rowKey={(p) => p.subscription_id} />
              ) : (
                <EmptyState icon={<IconCheck size={20} />} title="Nothing is past due">
                  Every invoice of {name} and its sub-accounts is paid or not yet due. Move the test clock past a due date to see the ladder
                  start.
                </EmptyState>
              )}
              {loading && (
                <div class="bill-table-foot">
                  <Spinner size={14} label="Updating" />
                </div>
              )}
            </Card>

            <Card title="Dunning ladder" description="What happens after an invoice's due date, day by day, until it is paid." class="rec-ladder-card">
              <ol class="rec-ladder">
                {data.ladder.map((s, i) => {
                  const state = !focus ? '' : i < focus.step ? 'is-done' : i === focus.step ? 'is-next' : '';
                  return (
                    <li key={i} class={['rec-rung', state].filter(Boolean).join(' ')}>
                      <span class="rec-rung-day">Day {s.day}</span>
                      <span class="rec-rung-dot" aria-hidden="true" />
                      <div class="rec-rung-body">
                        <p class="rec-rung-title">
                          {s.day === 0 ? 'Due date passes' : s.retry ? 'Payment retried' : 'Check'}
                          {state === 'is-next' && focus && <span class="visually-hidden"> (next for {focus.workspace_name})</span>}
                          {state === 'is-done' && <span class="visually-hidden"> (done)</span>}
                        </p>
                        <ul class="rec-chips" role="list">
                          {s.retry && (
                            <li class="rec-chip">
                              <IconRefresh size={12} />
                              Retry
                            </li>
                          )}
                          {s.state && (
                            <li class="rec-chip is-state">
                              State: {statusBadge(s.state as PastDue['status']).label.toLowerCase()}
                            </li>
                          )}
                          {s.mail && (
                            <li class="rec-chip">
                              <IconMail size={12} />
                              {mailName(s.mail)} email
                            </li>
                          )}
                          {s.pause_sub_accounts && (
                            <li class="rec-chip is-pause">
                              <IconPause size={12} />
                              Pauses sub-accounts
                            </li>
                          )}
                        </ul>
                      </div>
                    </li>
                  );
                })}
              </ol>
              {focus && (
                <p class="bill-muted rec-ladder-note">
                  Highlighted: where {focus.workspace_name} is now (step {Math.min(focus.step + 1, focus.ladder_steps)} of {focus.ladder_steps}).
                </p>
              )}
            </Card>
          </div>
          <aside class="rec-aside">
            <TestClockCard wsId={wsId} canWrite={canWrite} onMoved={refresh} />
          </aside>
        </div>
      )}
      <ConfirmDialog
        open={!!recovering}
        tone="primary"
        title={recovering ? `Mark ${recovering.workspace_name} recovered?` : ''}
        description={
          recovering && (
            <>
              <p>
                Use this when the money arrived another way. {recovering.invoice_number ?? 'The invoice'} (
                {formatMoney(recovering.amount_due, currency)}) is marked paid and the subscription leaves recovery.
              </p>
            </>
          )
        }
        confirmLabel="Mark recovered"
        busy={!!recovering && busy === `recovered:${recovering.subscription_id}`}
        onConfirm={() => void recovered()}
        onCancel={() => setRecovering(null)}
      />
    </>
  );
}

// ---- Test clock ------------------------------------------------------------------------------------

/** Moves an RFC 3339 time by `ms`, keeping its microseconds (so a move lands exactly on an event). */
function shiftIso(iso: string, to: Date): string {
  const frac = /\.(\d+)Z$/.exec(iso)?.[1] ?? '';
  const out = to.toISOString();
  return frac.length > 3 ? out.replace(/\.\d{3}Z$/, `.${frac.slice(0, 3).padEnd(3, '0')}${frac.slice(3)}Z`) : out;
}

/** A datetime-local value ("2026-12-13T03:18") for a time, in the browser's time zone. */
function localInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function TestClockCard({ wsId, canWrite, onMoved }: { wsId: string; canWrite: boolean; onMoved: () => void }) {
  const toast = useToast();
  const [clock, setClock] = useState<TestClock | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const [targetError, setTargetError] = useState<string | undefined>();
  const [deleting, setDeleting] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    billingApi
      .clock(wsId, ctl.signal)
      .then((c) => {
        setClock(c);
        setError(null);
        if (c?.frozen_time) setTarget(localInput(c.frozen_time));
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      });
    return () => ctl.abort();
  }, [wsId, version]);

  const frozen = clock?.frozen_time ?? null;

  const act = async (id: string, fn: () => Promise<TestClock | null>, done: (c: TestClock | null) => string) => {
    setBusy(id);
    setTargetError(undefined);
    try {
      const c = await fn();
      setClock(c && c.frozen_time ? c : null);
      if (c?.frozen_time) setTarget(localInput(c.frozen_time));
      toast({ title: done(c) });
      onMoved();
    } catch (e) {
      if (e instanceof ApiError && e.fieldError('frozen_time')) setTargetError(e.fieldError('frozen_time')!.message);
      else toast({ tone: 'danger', title: "Couldn't move the clock", description: problemText(e) });
      if (e instanceof ApiError && e.status === 409) setVersion((v) => v + 1);
    } finally {
      setBusy(null);
    }
  };

  const advanceTo = (id: string, iso: string) =>
    act(id, () => billingApi.advanceClock(wsId, iso), (c) => `Billing time is now ${formatMoment(c?.frozen_time ?? iso)}`);
  const advanceBy = (id: string, to: (d: Date) => Date) => {
    if (!frozen) return;
    void advanceTo(id, shiftIso(frozen, to(new Date(frozen))));
  };
  const create = () =>
    act(
      'create',
      () => billingApi.createClock(wsId, target ? new Date(target).toISOString() : undefined),
      (c) => `Test clock created at ${formatMoment(c?.frozen_time)}`,
    );

  const sub = clock?.subscription ?? null;
  const ahead = frozen ? daysUntil(frozen, Date.now()) : 0;

  return (
    <section class="card rec-clock" aria-labelledby="rec-clock-title">
      <div class="bill-card-head">
        <h2 class="bill-card-title" id="rec-clock-title">
          <IconClock size={16} />
          Test clock
        </h2>
        {clock !== undefined && (frozen ? <Badge tone="accent">Frozen</Badge> : <Badge tone="neutral">Real time</Badge>)}
      </div>
      {clock === undefined ? (
        error ? (
          <ErrorState error={error} title="Couldn't load the test clock" onRetry={() => setVersion((v) => v + 1)} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading the test clock" />
          </div>
        )
      ) : (
        <>
          <p class="rec-clock-label">Current billing time</p>
          <p class="rec-clock-time" data-testid="billing-time">
            {frozen ? formatMoment(frozen) : formatMoment(clock === null ? new Date().toISOString() : clock.now)}
          </p>
          <p class="bill-muted">
            {frozen
              ? ahead > 0
                ? `${daysText(ahead)} ahead of real time. Every billing event up to this time has run.`
                : 'Billing events run as the clock passes them.'
              : 'Billing follows the real clock. Create a test clock to move time forward for this workspace only.'}
          </p>
          {sub && (
            <dl class="rec-clock-sub">
              <div>
                <dt>Subscription</dt>
                <dd>
                  {sub.plan_name} · <Badge tone={statusBadge(sub.status).tone}>{statusBadge(sub.status).label}</Badge>
                </dd>
              </div>
              {sub.status === 'trialing' && sub.trial_end && (
                <div>
                  <dt>Trial ends</dt>
                  <dd>{formatMoment(sub.trial_end)}</dd>
                </div>
              )}
              {sub.current_period_end && (
                <div>
                  <dt>Period ends</dt>
                  <dd>{formatMoment(sub.current_period_end)}</dd>
                </div>
              )}
              {sub.past_due_since && (
                <div>
                  <dt>Past due since</dt>
                  <dd>{formatMoment(sub.past_due_since)}</dd>
                </div>
              )}
            </dl>
          )}
          {canWrite &&
            (frozen ? (
              <>
                <div class="rec-clock-moves" role="group" aria-label="Advance the clock">
                  <Button size="sm" loading={busy === 'd1'} disabled={!!busy} onClick={() => advanceBy('d1', (d) => new Date(d.getTime() + 86_400_000))}>
                    +1 day
                  </Button>
                  <Button size="sm" loading={busy === 'd7'} disabled={!!busy} onClick={() => advanceBy('d7', (d) => new Date(d.getTime() + 7 * 86_400_000))}>
                    +7 days
                  </Button>
                  <Button size="sm" loading={busy === 'm1'} disabled={!!busy} onClick={() => advanceBy('m1', (d) => addMonths(d, 1))}>
                    +1 month
                  </Button>
                </div>
                {sub && (sub.trial_end || sub.current_period_end) && (
                  <div class="rec-clock-jumps">
                    {sub.status === 'trialing' && sub.trial_end && Date.parse(sub.trial_end) > Date.parse(frozen) && (
                      <Button size="sm" variant="ghost" disabled={!!busy} loading={busy === 'trial'} onClick={() => void advanceTo('trial', sub.trial_end!)}>
                        To trial end
                      </Button>
                    )}
                    {sub.status !== 'trialing' && sub.current_period_end && Date.parse(sub.current_period_end) > Date.parse(frozen) && (
                      <Button size="sm" variant="ghost" disabled={!!busy} loading={busy === 'period'} onClick={() => void advanceTo('period', sub.current_period_end!)}>
                        To period end
                      </Button>
                    )}
                  </div>
                )}
                <form
                  class="rec-clock-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (!target) {
                      setTargetError('Pick a date and time.');
                      return;
                    }
                    void advanceTo('to', new Date(target).toISOString());
                  }}
                >
                  <ClockInput value={target} onValue={setTarget} error={targetError} label="Advance to" />
                  <Button type="submit" size="md" loading={busy === 'to'} disabled={!!busy}>
                    Advance
                  </Button>
                </form>
                <div class="rec-clock-foot">
                  <Button size="sm" variant="ghost" class="rec-delete" disabled={!!busy} onClick={() => setDeleting(true)}>
                    Delete test clock
                  </Button>
                </div>
              </>
            ) : (
              <form
                class="rec-clock-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  void create();
                }}
              >
                <ClockInput value={target} onValue={setTarget} error={targetError} label="Start at" hint="Leave empty to start at the present time." optional />
                <Button type="submit" variant="primary" loading={busy === 'create'}>
                  Create test clock
                </Button>
              </form>
            ))}
        </>
      )}
      <ConfirmDialog
        open={deleting}
        title="Delete the test clock?"
        description={
          <p>
            Billing goes back to real time for this workspace. What the clock already moved past (invoices, renewals, the ladder) stays as it
            is.
          </p>
        }
        confirmLabel="Delete test clock"
        busy={busy === 'delete'}
        onConfirm={() =>
          void (async () => {
            setBusy('delete');
            try {
              await billingApi.deleteClock(wsId);
              setClock(null);
              setTarget('');
              toast({ title: 'Test clock deleted', description: 'Billing follows real time again.' });
              onMoved();
            } catch (e) {
              toast({ tone: 'danger', title: "Couldn't delete the test clock", description: problemText(e) });
            } finally {
              setBusy(null);
              setDeleting(false);
            }
          })()
        }
        onCancel={() => setDeleting(false)}
      />
    </section>
  );
}

function ClockInput({
  value,
  onValue,
  error,
  label,
  hint,
  optional,
}: {
  value: string;
  onValue: (v: string) => void;
  error?: string;
  label: string;
  hint?: string;
  optional?: boolean;
}) {
  const id = `rec-clock-${label.toLowerCase().replace(/\s+/g, '-')}`;
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <div class="field-label-row">
        <label class="field-label" for={id}>
          {label}
          {optional && <span class="field-optional"> (optional)</span>}
        </label>
      </div>
      <input
        id={id}
        type="datetime-local"
        class="input"
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={[error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
      />
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
      {hint && (
        <p class="field-hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}
