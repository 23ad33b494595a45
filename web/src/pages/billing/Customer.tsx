// Billing details: who the invoices are addressed to (name, email, address, country, tax id). Saved
// with If-Match; a 412 says someone else changed them and offers a reload, never overwriting.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { billingApi, type Customer, type CustomerFields } from '../../api-billing';
import { countryOptions } from '../../lib/options';
import { Alert, Button, Card, ErrorState, IconRefresh, looksLikeEmail, SaveStatus, Select, Spinner, TextField, useForm, useToast } from '../../ui';

type Values = Record<keyof CustomerFields, string>;
const FIELDS: (keyof CustomerFields)[] = ['name', 'email', 'address_line1', 'address_line2', 'city', 'postal_code', 'region', 'country', 'tax_id'];

function valuesOf(c: Customer): Values {
  const v = {} as Values;
  for (const f of FIELDS) v[f] = c[f] ?? '';
  return v;
}

function patchOf(saved: Customer, v: Values): Partial<CustomerFields> {
  const patch: Partial<CustomerFields> = {};
  for (const f of FIELDS) if ((v[f] ?? '').trim() !== (saved[f] ?? '')) patch[f] = v[f].trim();
  return patch;
}

export function CustomerCard({ wsId, canWrite, onSaved }: { wsId: string; canWrite: boolean; onSaved?: () => void }) {
  const [doc, setDoc] = useState<{ doc: Customer; etag: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    billingApi
      .customer(wsId)
      .then((d) => live && (setDoc(d), setError(null)))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [wsId, version]);

  return (
    <Card
      title="Billing details"
      class="bill-customer"
      description="Who your invoices are addressed to. Changes apply to invoices issued from now on; the country sets the tax rate."
    >
      {doc ? (
        <CustomerForm
          key={doc.etag}
          wsId={wsId}
          initial={doc}
          canWrite={canWrite}
          onSaved={(d) => {
            setDoc(d);
            onSaved?.();
          }}
        />
      ) : error ? (
        <ErrorState error={error} title="Couldn't load the billing details" onRetry={() => setVersion((v) => v + 1)} />
      ) : (
        <div class="card-loading">
          <Spinner label="Loading billing details" />
        </div>
      )}
    </Card>
  );
}

function CustomerForm({
  wsId,
  initial,
  canWrite,
  onSaved,
}: {
  wsId: string;
  initial: { doc: Customer; etag: string };
  canWrite: boolean;
  onSaved: (d: { doc: Customer; etag: string }) => void;
}) {
  const toast = useToast();
  const [saved, setSaved] = useState(initial);
  const [conflict, setConflict] = useState(false);
  const [reloading, setReloading] = useState(false);
  const conflictRef = useRef<HTMLDivElement>(null);

  const form = useForm<Values>({
    initial: valuesOf(initial.doc),
    validate: (v) => ({
      email: v.email.trim() && !looksLikeEmail(v.email) ? 'Enter an email address, like billing@example.com.' : undefined,
    }),
    save: { what: 'the billing details', dirty: (v) => canWrite && Object.keys(patchOf(saved.doc, v)).length > 0 },
    onSubmit: async (v) => {
      const patch = patchOf(saved.doc, v);
      if (Object.keys(patch).length === 0) return;
      try {
        const next = await billingApi.patchCustomer(wsId, saved.etag, patch);
        setSaved(next);
        form.reset(valuesOf(next.doc));
        setConflict(false);
        toast({ title: 'Billing details saved', description: 'New invoices use them.' });
        onSaved(next);
      } catch (e) {
        if (e instanceof ApiError && e.status === 412) {
          setConflict(true);
          return;
        }
        throw e;
      }
    },
  });

  useEffect(() => {
    if (conflict) conflictRef.current?.focus();
  }, [conflict]);

  const reload = async () => {
    setReloading(true);
    try {
      const next = await billingApi.customer(wsId);
      setSaved(next);
      form.reset(valuesOf(next.doc));
      setConflict(false);
      toast({ tone: 'info', title: 'Loaded the latest billing details', description: 'Make your changes again, then save.' });
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't reload", description: e instanceof ApiError ? (e.detail ?? e.title) : undefined });
    } finally {
      setReloading(false);
    }
  };

  const dirty = form.dirty;
  const f = (n: keyof Values) => ({ ...form.field(n), disabled: !canWrite });

  return (
    <form onSubmit={form.onSubmit} noValidate aria-label="Billing details">
      {conflict && (
        <div ref={conflictRef} tabIndex={-1} class="settings-alert conflict" role="alert">
          <div class="conflict-text">
            <p class="conflict-title">Changed by someone else</p>
            <p>
              Someone saved the billing details after you opened them. Your edits were <strong>not</strong> saved. Reload to see the latest
              version, then make your changes again.
            </p>
          </div>
          <Button variant="primary" icon={<IconRefresh size={16} />} loading={reloading} onClick={() => void reload()}>
            Reload
          </Button>
        </div>
      )}
      {form.formError && form.formError.status !== 401 && (
        <Alert tone="danger" title={form.formError.title} class="settings-alert">
          {form.formError.detail ?? 'Please try again.'}
        </Alert>
      )}
      {form.otherErrors.length > 0 && (
        <Alert tone="danger" title="Some changes were not accepted" class="settings-alert">
          {form.otherErrors.join(' ')}
        </Alert>
      )}
      <div class="form-grid">
        <TextField {...f('name')} label="Company or name" optional autoComplete="organization" hint="Printed on invoices." />
        <TextField {...f('email')} label="Billing email" type="email" optional autoComplete="email" hint="Invoices and receipts go here." />
        <TextField {...f('address_line1')} label="Address" optional autoComplete="address-line1" class="span-2" />
        <TextField {...f('address_line2')} label="Address line 2" optional autoComplete="address-line2" class="span-2" />
        <TextField {...f('city')} label="City" optional autoComplete="address-level2" />
        <TextField {...f('postal_code')} label="Postal code" optional autoComplete="postal-code" />
        <TextField {...f('region')} label="State or region" optional autoComplete="address-level1" />
        <Select {...f('country')} label="Country" optional placeholder="Not set" options={countryOptions()} />
        <TextField {...f('tax_id')} label="Tax ID" optional hint="VAT, GST or EIN number, printed on invoices." spellcheck={false} class="span-2" />
      </div>
      {canWrite && (
        <div class="bill-form-actions">
          <SaveStatus
            class="bill-muted"
            failure={conflict ? null : form.failure}
            dirty={dirty}
            note={conflict && 'Reload before saving.'}
          />
          <Button variant="ghost" disabled={!dirty || form.submitting} onClick={() => form.reset(valuesOf(saved.doc))}>
            Discard
          </Button>
          <Button type="submit" variant="primary" disabled={!dirty || conflict} loading={form.submitting}>
            Save billing details
          </Button>
        </div>
      )}
    </form>
  );
}
