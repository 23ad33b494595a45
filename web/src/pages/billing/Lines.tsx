// Invoice lines as a small table: description (with its period) and amount, then the totals.
import type { InvoiceLine, Tax } from '../../api-billing';
import { formatDay, formatMoney } from './model';

export function Lines({
  caption,
  lines,
  currency,
  totals,
}: {
  caption: string;
  lines: InvoiceLine[];
  currency: string;
  totals?: { subtotal: number; tax: Tax; applied_balance: number; total: number; totalLabel: string };
}) {
  return (
    <table class="bill-lines">
      <caption class="visually-hidden">{caption}</caption>
      <thead class="visually-hidden">
        <tr>
          <th scope="col">Description</th>
          <th scope="col">Amount</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((l, i) => (
          <tr key={i} class={l.amount < 0 ? 'is-credit' : undefined}>
            <td>
              <span class="bill-line-desc">{l.description}</span>
              {(l.quantity > 1 || (l.period_start && l.period_end)) && (
                <span class="bill-line-meta">
                  {l.quantity > 1 && `${l.quantity} × ${formatMoney(l.unit_amount, currency)}`}
                  {l.quantity > 1 && l.period_start && ' · '}
                  {l.period_start && l.period_end && `${formatDay(l.period_start)} – ${formatDay(l.period_end)}`}
                </span>
              )}
            </td>
            <td class="bill-line-amount">{formatMoney(l.amount, currency)}</td>
          </tr>
        ))}
      </tbody>
      {totals && (
        <tfoot>
          {(totals.tax.amount !== 0 || totals.applied_balance !== 0) && (
            <tr>
              <th scope="row">Subtotal</th>
              <td class="bill-line-amount">{formatMoney(totals.subtotal, currency)}</td>
            </tr>
          )}
          {totals.tax.amount !== 0 && (
            <tr>
              <th scope="row">
                {totals.tax.name || 'Tax'} ({(totals.tax.rate_bp / 100).toLocaleString()} %)
              </th>
              <td class="bill-line-amount">{formatMoney(totals.tax.amount, currency)}</td>
            </tr>
          )}
          {totals.applied_balance !== 0 && (
            <tr>
              <th scope="row">Balance applied</th>
              <td class="bill-line-amount">{formatMoney(-Math.abs(totals.applied_balance), currency)}</td>
            </tr>
          )}
          <tr class="bill-lines-total">
            <th scope="row">{totals.totalLabel}</th>
            <td class="bill-line-amount">{formatMoney(totals.total, currency)}</td>
          </tr>
        </tfoot>
      )}
    </table>
  );
}
