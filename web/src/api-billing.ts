// The Billing API: the overview, plans, previews and subscription changes, customer details (with an
// ETag), invoices (JSON, and the HTML and PDF documents by URL), the payment provider's doors, and the
// developer-only test clock and Billing Recovery. Shapes follow src/api/billing.c and src/billing/*.c.
// Amounts are integers in the currency's minor units (cents for USD).
import { ApiError, request, type Overdue, type Page, type Versioned } from './api';

export type Interval = 'month' | 'year';
export type Proration = 'invoice_now' | 'prorate' | 'at_renewal';
export type SubscriptionStatus =
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'unpaid'
  | 'paused'
  | 'incomplete'
  | 'incomplete_expired'
  | 'canceled';

export interface Metered {
  id: string;
  name: string;
  unit: string;
  /** Units included in each period before overage is charged. */
  included: number;
  /** The price of `per_units` units above the allowance. */
  unit_price: number;
  per_units: number;
}

export interface Plan {
  id: string;
  name: string;
  description: string;
  offered: boolean;
  prices: Record<Interval, { base: number; per_seat: number }>;
  included_seats: number;
  min_seats: number;
  max_seats: number;
  trial_days: number;
  features: string[];
  limits: Record<string, number>;
  metered: Metered[];
  currency: string;
}

export interface PendingChange {
  plan_id: string;
  interval: Interval;
  quantity: number;
  effective_at: string | null;
}

export interface Subscription {
  id: string;
  plan_id: string;
  plan_name: string;
  interval: Interval;
  quantity: number;
  status: SubscriptionStatus;
  collection: string;
  current_period_start: string | null;
  current_period_end: string | null;
  trial_end: string | null;
  cancel_at_period_end: boolean;
  cancel_reason: string | null;
  canceled_at: string | null;
  ended_at: string | null;
  pending_change: PendingChange | null;
  past_due_since: string | null;
  version: number;
  created_at: string | null;
}

/** In a sub-account billed by its agency the seats are this workspace's own: `purchased` and
 * `available` (the agency's pool) are null. */
export interface SeatSummary {
  purchased: number | null;
  used: number;
  available: number | null;
  active_members: number;
  pending_invitations: number;
}

/** A sub-account billed by its agency sees its own usage: counts only, no allowance or amounts. */
export interface UsageCount {
  metric: string;
  name: string;
  unit: string;
  used: number;
}

export interface UsageMeter {
  metric: string;
  name: string;
  unit: string;
  used: number;
  included: number;
  overage: number;
  unit_price: number;
  per_units: number;
  overage_amount: number;
}

export interface InvoiceLine {
  kind: string;
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period_start: string | null;
  period_end: string | null;
}

export interface Tax {
  name: string;
  country: string;
  /** Basis points: 1900 is 19 %. */
  rate_bp: number;
  amount: number;
}

export interface UpcomingInvoice {
  at: string;
  subtotal: number;
  total: number;
  amount_due: number;
  tax: Tax;
  lines: InvoiceLine[];
}

export interface CustomerFields {
  name: string;
  email: string;
  address_line1: string;
  address_line2: string;
  city: string;
  postal_code: string;
  region: string;
  country: string;
  tax_id: string;
}

export interface Customer extends CustomerFields {
  provider: string;
  payment_method: { label: string } | null;
  /** Credit (negative) or debt carried to the next invoice. */
  balance: number;
}

export type BannerKind = 'none' | 'trial' | 'past_due' | 'unpaid' | 'paused' | 'incomplete' | 'canceling';

export interface BillingBanner {
  kind: BannerKind;
  message: string;
  at?: string;
  days_left?: number;
  /** Past due or unpaid, in the paying workspace: every overdue invoice and their total. */
  overdue?: Overdue;
}

export interface BillingOverview {
  workspace_id: string;
  /** The workspace whose subscription covers this one (itself, or its agency). */
  billed_by: string;
  /** The paying workspace's name ("billed by Acme Agency"). */
  billed_by_name: string;
  billing_mode: 'own' | 'parent';
  provider: string;
  currency: string;
  subscription: Subscription | null;
  plan: Plan | null;
  entitled: boolean;
  seats: SeatSummary;
  /** UsageMeter[] when the workspace pays for itself, UsageCount[] when its agency does. */
  usage: UsageMeter[] | UsageCount[];
  upcoming_invoice: UpcomingInvoice | null;
  customer: Customer | null;
  banner: BillingBanner | null;
  test_clock: { frozen_time: string } | null;
  paused_at: string | null;
  /** The billing time (the test clock's when there is one). */
  now: string;
}

export interface PlanList {
  currency: string;
  current_plan_id: string | null;
  items: Plan[];
}

export interface ChangeRequest {
  plan_id?: string;
  interval?: Interval;
  quantity?: number;
  proration?: Proration;
  /** The time the preview priced; pass it back to the change so the charge equals the preview. */
  proration_date?: string;
}

export interface Preview {
  effective: 'now' | 'period_end';
  /** The mode the server priced with ('trial' while trialing: nothing is charged). */
  proration: Proration | 'trial';
  proration_date: string;
  amount_due_now: number;
  lines: InvoiceLine[];
  subtotal: number;
  tax: Tax;
  total: number;
  applied_balance: number;
  credit_to_balance: number;
  next_invoice: { at: string; amount: number; lines: InvoiceLine[] };
  after: { plan_id: string; interval: Interval; quantity: number };
  currency: string;
}

export interface ChangeResult {
  subscription: Subscription;
  invoice: { id: string } | null;
  proration: string;
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';

export interface InvoiceSummary {
  id: string;
  number: string | null;
  status: InvoiceStatus;
  payment_status: string;
  total: number;
  amount_due: number;
  amount_paid: number;
  currency: string;
  created_at: string | null;
  due_at: string | null;
  period_start: string | null;
  period_end: string | null;
  reason: string;
}

export interface Invoice extends Omit<InvoiceSummary, 'reason'> {
  subscription_id: string | null;
  reason: string;
  workspace_id: string;
  issuer: { name?: string; address?: string[]; tax_id?: string; email?: string };
  customer: { name?: string; email?: string; address?: string[]; country?: string; tax_id?: string };
  subtotal: number;
  tax: Tax;
  applied_balance: number;
  amount_remaining: number;
  attempt_count: number;
  next_payment_attempt: string | null;
  finalized_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  marked_uncollectible_at: string | null;
  lines: InvoiceLine[];
}

export interface TestClock {
  workspace_id: string;
  frozen_time: string | null;
  now: string;
  subscription?: Subscription | null;
}

export interface LadderStep {
  day: number;
  retry: boolean;
  state: string | null;
  mail: string | null;
  pause_sub_accounts: boolean;
}

export interface PastDue {
  workspace_id: string;
  workspace_name: string;
  subscription_id: string;
  status: SubscriptionStatus;
  plan_id: string;
  invoice_id: string | null;
  invoice_number: string | null;
  amount_due: number;
  past_due_since: string | null;
  /** The next rung of the ladder (0-based). */
  step: number;
  attempts: number;
  next_attempt_at: string | null;
  ladder_steps: number;
  /** The episode's outcome, the one the rate counts: lost once the ladder has run out. */
  outcome: 'open' | 'recovered' | 'lost';
}

export interface Recovery {
  ladder: LadderStep[];
  past_due: PastDue[];
  rate: { recovered: number; lost: number; open: number; rate: number | null };
  currency: string;
}

/** The problem type of a feature outside the plan (HTTP 402); it carries plans[] that include it. */
export const PROBLEM_PLAN_REQUIRED = 'urn:atrium:problem:plan-required';

export function isProblem(e: unknown, slug: string): e is ApiError {
  return e instanceof ApiError && e.type === `urn:atrium:problem:${slug}`;
}

const ws = (id: string) => `/workspaces/${encodeURIComponent(id)}`;
const base = (id: string) => `${ws(id)}/billing`;
const inv = (id: string, invoice: string) => `${base(id)}/invoices/${encodeURIComponent(invoice)}`;

async function versioned<T>(method: string, path: string, body?: unknown, etag?: string): Promise<Versioned<T>> {
  let tag = '';
  const doc = await request<T>(method, path, {
    body,
    headers: etag ? { 'If-Match': etag } : undefined,
    onResponse: (res) => (tag = res.headers.get('ETag') ?? ''),
  });
  return { doc, etag: tag };
}

/** A key for one logical attempt: sending it again with a retry of the same request is not applied twice. */
export function idempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const billingApi = {
  overview: (id: string, signal?: AbortSignal) => request<BillingOverview>('GET', base(id), { signal }),
  plans: (id: string, signal?: AbortSignal) => request<PlanList>('GET', `${base(id)}/plans`, { signal }),
  preview: (id: string, body: ChangeRequest, signal?: AbortSignal) =>
    request<Preview>('POST', `${base(id)}/preview`, { body, signal }),
  change: (id: string, body: ChangeRequest, key: string = idempotencyKey()) =>
    request<ChangeResult>('POST', `${base(id)}/subscription/change`, { body, headers: { 'Idempotency-Key': key } }),
  subscribe: (id: string, body: { plan_id: string; interval: Interval; quantity: number }, key: string = idempotencyKey()) =>
    request<{ subscription: Subscription }>('POST', `${base(id)}/subscription`, { body, headers: { 'Idempotency-Key': key } }),
  cancel: (id: string, at_period_end: boolean, reason: string) =>
    request<{ subscription: Subscription }>('POST', `${base(id)}/subscription/cancel`, {
      body: reason ? { at_period_end, reason } : { at_period_end },
    }),
  resume: (id: string) => request<{ subscription: Subscription }>('POST', `${base(id)}/subscription/resume`),

  customer: (id: string) => versioned<Customer>('GET', `${base(id)}/customer`),
  patchCustomer: (id: string, etag: string, patch: Partial<CustomerFields>) =>
    versioned<Customer>('PATCH', `${base(id)}/customer`, patch, etag),

  invoices: (id: string, cursor?: string, signal?: AbortSignal) =>
    request<Page<InvoiceSummary>>('GET', `${base(id)}/invoices?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      signal,
    }),
  invoice: (id: string, invoice: string, signal?: AbortSignal) => request<Invoice>('GET', inv(id, invoice), { signal }),
  /** The invoice as a standalone HTML document (same origin, so it can be framed or opened in a tab). */
  invoiceHtmlUrl: (id: string, invoice: string) => `/api/v1${inv(id, invoice)}/html`,
  /** The invoice as a PDF download (Content-Disposition: attachment). */
  invoicePdfUrl: (id: string, invoice: string) => `/api/v1${inv(id, invoice)}/pdf`,
  pay: (id: string, invoice: string) => request<{ invoice_id: string; queued: boolean }>('POST', `${inv(id, invoice)}/pay`),
  /** Operator actions (developer access). */
  invoiceAction: (id: string, invoice: string, action: 'mark-paid' | 'void' | 'mark-uncollectible') =>
    request<Invoice>('POST', `${inv(id, invoice)}/${action}`),

  checkout: (id: string) => request<{ url: string }>('POST', `${base(id)}/checkout`),
  portal: (id: string) => request<{ url: string }>('POST', `${base(id)}/portal`),

  /** The workspace's test clock, or null when it runs on real time. */
  clock: async (id: string, signal?: AbortSignal): Promise<TestClock | null> => {
    try {
      const c = await request<TestClock>('GET', `${base(id)}/test-clock`, { signal });
      return c.frozen_time ? c : null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
  createClock: (id: string, frozen_time?: string) =>
    request<TestClock>('POST', `${base(id)}/test-clock`, { body: frozen_time ? { frozen_time } : {} }),
  advanceClock: (id: string, frozen_time: string) =>
    request<TestClock>('POST', `${base(id)}/test-clock/advance`, { body: { frozen_time } }),
  deleteClock: (id: string) => request<void>('DELETE', `${base(id)}/test-clock`),

  recovery: (id: string, signal?: AbortSignal) => request<Recovery>('GET', `${ws(id)}/billing-recovery`, { signal }),
  retry: (id: string, subscription: string) =>
    request<{ subscription_id: string; invoice_id: string; queued: boolean }>(
      'POST',
      `${ws(id)}/billing-recovery/${encodeURIComponent(subscription)}/retry`,
    ),
  recovered: (id: string, subscription: string) =>
    request<{ subscription: Subscription; invoice_id: string }>(
      'POST',
      `${ws(id)}/billing-recovery/${encodeURIComponent(subscription)}/recovered`,
    ),
};
