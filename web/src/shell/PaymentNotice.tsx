// The payment state owners and admins see on every page (GET .../sections → billing_alert), and the
// words for overdue invoices that the shell, the Billing page and "not available" pages share, so
// the amount asked for is the same everywhere: every overdue invoice and their total.
import type { BillingAlert, Overdue } from '../api';
import { formatMoney } from '../pages/billing/model';
import { Link } from '../router';
import { Banner, IconAlert } from '../ui';
import { workspacePath } from '../workspace';

/** "ATR-000002 ($11.60)", "ATR-000002 ($11.60) and ATR-000003 ($498.60)", or with commas for more. */
export function overdueList(overdue: Overdue, currency: string): string {
  const parts = overdue.invoices.map((i) => `${i.number ?? 'an invoice'} (${formatMoney(i.amount_due, currency)})`);
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** One sentence stating what is overdue: "$510.20 is overdue: invoices ATR-000002 ($11.60) and ATR-000003 ($498.60)." */
export function overdueSentence(overdue: Overdue, currency: string): string {
  const n = overdue.invoices.length;
  if (n === 0) return '';
  return `${formatMoney(overdue.total, currency)} is overdue: ${n === 1 ? 'invoice' : 'invoices'} ${overdueList(overdue, currency)}.`;
}

/** The shell's strip under the top bar while the subscription covering the workspace is past due or unpaid. */
export function PaymentBanner({ wsId, alert }: { wsId: string; alert: BillingAlert }) {
  const unpaid = alert.status === 'unpaid';
  const agency = alert.billed_by_agency;
  const title = agency
    ? unpaid
      ? "Your agency's subscription is unpaid."
      : "Your agency's payment is past due."
    : unpaid
      ? 'Your subscription is unpaid: paid features are off until it is paid.'
      : 'A payment is past due. Pay it to keep every feature.';
  const what = !agency && alert.overdue ? overdueSentence(alert.overdue, alert.currency) : '';
  return (
    <Banner
      tone={unpaid ? 'danger' : 'warning'}
      label="Payment status"
      icon={<IconAlert size={16} />}
      actions={
        <Link href={workspacePath(wsId, 'billing')} class="banner-link">
          {agency ? 'View billing' : 'Go to Billing'}
        </Link>
      }
    >
      <strong>{title}</strong>
      {what && <> {what}</>}
      {agency && ' Paid features may be paused until the agency that manages this workspace pays.'}
    </Banner>
  );
}
