// Billing in words and numbers: money in minor units formatted with Intl.NumberFormat, plan prices,
// feature names, invoice and subscription states, and the dunning ladder's mails.
import { ApiError } from '../../api';
import type { Interval, InvoiceStatus, InvoiceSummary, Metered, Plan, Subscription } from '../../api-billing';
import type { BadgeTone } from '../../ui';

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, compact = false): Intl.NumberFormat {
  const key = `${currency}|${compact}`;
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, {
        style: 'currency',
        currency,
        ...(compact ? { minimumFractionDigits: 0, maximumFractionDigits: 2 } : {}),
      });
    } catch {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });
    }
    formatters.set(key, f);
  }
  return f;
}

/** How many minor units make one major unit (100 for USD, 1 for JPY). */
export function minorFactor(currency: string): number {
  const digits = formatter(currency).resolvedOptions().maximumFractionDigits ?? 2;
  return 10 ** digits;
}

/** An amount in minor units as money: formatMoney(7549, 'USD') → "$75.49". */
export function formatMoney(minor: number, currency: string): string {
  return formatter(currency).format(minor / minorFactor(currency));
}

/** Like formatMoney, without ".00" on whole amounts ("$39", "$0.40"). */
export function formatPrice(minor: number, currency: string): string {
  const major = minor / minorFactor(currency);
  return Number.isInteger(major) ? formatter(currency, true).format(major) : formatter(currency).format(major);
}

const count = new Intl.NumberFormat();
export function formatCount(n: number): string {
  return count.format(n);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

export const INTERVAL_LABEL: Record<Interval, string> = { month: 'Monthly', year: 'Yearly' };
export const PER: Record<Interval, string> = { month: 'month', year: 'year' };

/** What a plan costs for a number of seats per interval: base + seats beyond those included. */
export function planAmount(plan: Plan, interval: Interval, seats: number): number {
  const p = plan.prices[interval];
  return p.base + Math.max(0, seats - plan.included_seats) * p.per_seat;
}

/** The seat range a plan accepts given the seats in use. */
export function seatRange(plan: Plan, used: number): { min: number; max: number } {
  return { min: Math.max(plan.min_seats, used, 1), max: plan.max_seats };
}

/** "$39 per seat / month", "$297 / month + $29 per seat beyond 10". */
export function priceText(plan: Plan, interval: Interval, currency: string): string {
  const p = plan.prices[interval];
  const per = PER[interval];
  if (!p.base && !p.per_seat) return 'Free';
  if (!p.base) return `${formatPrice(p.per_seat, currency)} per seat / ${per}`;
  if (!p.per_seat) return `${formatPrice(p.base, currency)} / ${per}`;
  return `${formatPrice(p.base, currency)} / ${per} + ${formatPrice(p.per_seat, currency)} per extra seat`;
}

/** The percentage a yearly price saves against twelve months. */
export function yearlySaving(plan: Plan): number {
  const m = plan.prices.month.per_seat * 12 + plan.prices.month.base * 12;
  const y = plan.prices.year.per_seat + plan.prices.year.base;
  if (!m || y >= m) return 0;
  return Math.round(((m - y) / m) * 100);
}

const FEATURES: Record<string, string> = {
  api_access: 'API access',
  voice: 'Voice and AI calls',
  sub_accounts: 'Sub-accounts',
};

export function featureName(id: string, plan?: Plan): string {
  const name = FEATURES[id] ?? id.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
  const limit = plan?.limits?.[id];
  return limit ? `${name} (up to ${formatCount(limit)})` : name;
}

/** "$0.40 per 1,000 calls", "$0.06 per minute". */
export function unitPriceText(m: Pick<Metered, 'unit' | 'unit_price' | 'per_units'>, currency: string): string {
  const price = formatMoney(m.unit_price, currency);
  return m.per_units === 1 ? `${price} per ${m.unit}` : `${price} per ${formatCount(m.per_units)} ${m.unit}s`;
}

export function unitText(n: number, unit: string): string {
  return `${formatCount(n)} ${n === 1 ? unit : `${unit}s`}`;
}

export function statusBadge(status: Subscription['status']): { tone: BadgeTone; label: string } {
  switch (status) {
    case 'trialing':
      return { tone: 'accent', label: 'Trial' };
    case 'active':
      return { tone: 'success', label: 'Active' };
    case 'past_due':
      return { tone: 'danger', label: 'Past due' };
    case 'unpaid':
      return { tone: 'danger', label: 'Unpaid' };
    case 'paused':
      return { tone: 'warning', label: 'Paused' };
    case 'incomplete':
      return { tone: 'warning', label: 'Awaiting payment' };
    case 'incomplete_expired':
      return { tone: 'neutral', label: 'Expired' };
    case 'canceled':
      return { tone: 'neutral', label: 'Canceled' };
  }
  return { tone: 'neutral', label: status };
}

/** A subscription state in a sentence, with its article: "an unpaid subscription", "a past-due subscription". */
export function statusPhrase(status: Subscription['status'], { start = false } = {}): string {
  const word = status === 'past_due' ? 'past-due' : statusBadge(status).label.toLowerCase();
  const article = /^[aeiou]/.test(word) ? 'an' : 'a';
  return `${start ? article.charAt(0).toUpperCase() + article.slice(1) : article} ${word} subscription`;
}

/** An open invoice past its due date counts as overdue. */
export function isOverdue(i: Pick<InvoiceSummary, 'status' | 'due_at'>, now: number): boolean {
  return i.status === 'open' && !!i.due_at && Date.parse(i.due_at) < now;
}

export function invoiceBadge(i: Pick<InvoiceSummary, 'status' | 'due_at'>, now: number): { tone: BadgeTone; label: string } {
  const s: InvoiceStatus = i.status;
  if (s === 'paid') return { tone: 'success', label: 'Paid' };
  if (s === 'open') return isOverdue(i, now) ? { tone: 'danger', label: 'Overdue' } : { tone: 'warning', label: 'Open' };
  if (s === 'void') return { tone: 'neutral', label: 'Void' };
  if (s === 'uncollectible') return { tone: 'danger', label: 'Uncollectible' };
  return { tone: 'neutral', label: s.charAt(0).toUpperCase() + s.slice(1) };
}

const REASONS: Record<string, string> = {
  subscription_cycle: 'Subscription',
  subscription_create: 'New subscription',
  subscription_update: 'Plan or seat change',
  subscription_final: 'Final invoice',
  manual: 'One-off',
};

export function invoiceReason(reason: string): string {
  return REASONS[reason] ?? reason.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** What is still owed on an invoice. */
export function remaining(i: Pick<InvoiceSummary, 'status' | 'amount_due' | 'amount_paid'>): number {
  return i.status === 'open' || i.status === 'uncollectible' ? Math.max(0, i.amount_due - i.amount_paid) : 0;
}

const MAILS: Record<string, string> = {
  payment_failed: 'Payment failed',
  payment_retry_failed: 'Retry failed',
  payment_final_notice: 'Final notice',
  subscription_ended: 'Subscription ended',
};

export function mailName(id: string): string {
  return MAILS[id] ?? id.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

const DAY = 86_400_000;

/** Whole days from `now` until `iso` (rounded up; 0 once it has passed). */
export function daysUntil(iso: string | null | undefined, now: number): number {
  if (!iso) return 0;
  return Math.max(0, Math.ceil((Date.parse(iso) - now) / DAY));
}

export function daysText(n: number): string {
  return n === 1 ? '1 day' : `${formatCount(n)} days`;
}

/** Adds calendar months in UTC, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(t: Date, n: number): Date {
  const d = new Date(t.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "Dec 12, 2026" (billing dates always carry the year). */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : day.format(d);
}

/** "Dec 12, 2026, 3:18 AM". */
export function formatMoment(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : moment.format(d);
}

/** The text of a failed request for a toast or an alert. */
export function problemText(e: unknown): string | undefined {
  return e instanceof ApiError ? (e.errors[0]?.message ?? e.detail ?? e.title) : undefined;
}

/** The oldest invoice still owed. */
export function oldestOpen(items: InvoiceSummary[] | null): InvoiceSummary | undefined {
  return (items ?? [])
    .filter((i) => i.status === 'open')
    .sort((a, b) => Date.parse(a.due_at ?? a.created_at ?? '') - Date.parse(b.due_at ?? b.created_at ?? ''))[0];
}
