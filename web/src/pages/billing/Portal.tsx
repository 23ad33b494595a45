// Atrium's own billing portal, where "Manage billing" leads with the manual provider: how invoices are
// paid (by bank transfer), the billing details, the invoice history, and cancelling or resuming.
import { useState } from 'preact/hooks';
import { billingApi } from '../../api-billing';
import { Card, ErrorState, IconMail, PageHeader, Spinner, useToast } from '../../ui';
import { workspaceName, workspacePath } from '../../workspace';
import { useTitle } from '../title';
import type { WorkspacePageProps } from '../WorkspaceRoutes';
import { CancelCard, CancelDialog } from './Cancel';
import { CustomerCard } from './Customer';
import { useBillingData, useInvoices } from './data';
import { BackLink, InvoicesCard } from './Invoices';
import { formatDay, formatMoney, oldestOpen, problemText, remaining } from './model';

export function BillingPortal({ wsId, section, sections, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(`Billing portal · ${name}`);
  const toast = useToast();
  const canWrite = section.access === 'write';
  const { overview, error, loading, reload } = useBillingData(wsId);
  const own = !!overview && overview.billing_mode === 'own';
  const invoices = useInvoices(wsId, own);
  const [canceling, setCanceling] = useState(false);
  const [resuming, setResuming] = useState(false);
  const canOperate = sections.items.some((s) => s.id === 'billing_recovery' && s.access === 'write');
  const back = workspacePath(wsId, 'billing');
  const sub = overview?.subscription ?? null;
  const live = !!sub && sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
  const open = oldestOpen(invoices.items);

  const resume = async () => {
    setResuming(true);
    try {
      await billingApi.resume(wsId);
      toast({ title: 'Subscription resumed', description: 'It renews as usual.' });
      reload();
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't resume the subscription", description: problemText(e) });
    } finally {
      setResuming(false);
    }
  };

  return (
    <>
      <BackLink href={back} />
      <PageHeader
        title="Billing portal"
        eyebrow={name}
        description="Your billing details, how invoices are paid, every invoice, and your subscription."
      />
      {!overview ? (
        error ? (
          <ErrorState error={error} title="Couldn't load billing" onRetry={reload} retrying={loading} />
        ) : (
          <div class="page-spinner">
            <Spinner size={24} label="Loading billing" />
          </div>
        )
      ) : !own ? (
        <Card title="Billed to your agency">
          <p>{name} is billed to the agency that manages it. Its billing details, payments and invoices are managed there.</p>
        </Card>
      ) : (
        <>
          <Card title="How you pay" class="bill-pay-card">
            <div class="bill-pay">
              <span class="bill-pay-icon" aria-hidden="true">
                <IconMail size={20} />
              </span>
              <div>
                <p class="bill-pay-title">Invoices are sent by email and paid by bank transfer</p>
                <p class="bill-muted">
                  Each invoice is due 7 days after it is issued. Quote its number as the transfer reference; it is marked paid when the money
                  arrives.
                  {overview.customer?.email ? ` Invoices go to ${overview.customer.email}.` : ' Add a billing email below to receive them.'}
                </p>
                {open && (
                  <p class="bill-pay-open">
                    Open now: <strong>{open.number ?? open.id}</strong>, {formatMoney(remaining(open), open.currency)}, due {formatDay(open.due_at)}.
                  </p>
                )}
              </div>
            </div>
          </Card>
          <CustomerCard wsId={wsId} canWrite={canWrite} onSaved={reload} />
          <InvoicesCard
            wsId={wsId}
            data={invoices}
            title="Invoice history"
            billingNow={Date.parse(overview.now)}
            canOperate={canOperate}
            onChanged={reload}
            emptyText="Invoices appear here as they are issued."
          />
          {canWrite && live && sub && sub.status !== 'paused' && (
            <CancelCard sub={sub} busy={resuming} onCancel={() => setCanceling(true)} onResume={() => void resume()} />
          )}
          <CancelDialog
            wsId={wsId}
            sub={sub}
            open={canceling}
            onClose={() => setCanceling(false)}
            onDone={(_s, atEnd) => {
              setCanceling(false);
              toast({ title: 'Subscription canceled', description: atEnd ? 'It ends at the end of the period; you can resume it until then.' : 'It has ended.' });
              reload();
              invoices.reload();
            }}
          />
        </>
      )}
    </>
  );
}
