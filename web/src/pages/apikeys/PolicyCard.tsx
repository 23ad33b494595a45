// The workspace's key policy: the longest lifetime a new key may have, the lifetime preselected when
// creating one, and whether keys that never expire are allowed. Existing keys keep their expiry.
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from '../../api';
import { apiKeysApi, type KeyPolicy } from '../../api-keys';
import { Alert, Badge, Button, Card, ErrorState, fieldsText, IconAlert, SaveStatus, Spinner, Switch, useToast } from '../../ui';
import { useUnsavedChanges } from '../../lib/unsaved';
import { lifetimeLabel } from './model';

const FIELD_LABELS = { max_days: 'Maximum lifetime', default_days: 'Default lifetime', allow_never: 'Allow keys that never expire' };

const LIMIT = 3650;

type Errors = Partial<Record<'max_days' | 'default_days' | 'allow_never', string>>;

export function PolicyCard({
  wsId,
  workspace,
  policy,
  error,
  canWrite,
  onRetry,
  onSaved,
}: {
  wsId: string;
  workspace: string;
  policy: KeyPolicy | null;
  error: unknown;
  canWrite: boolean;
  onRetry: () => void;
  onSaved: (p: KeyPolicy) => void;
}) {
  const id = useId();
  const toast = useToast();
  const [max, setMax] = useState('');
  const [def, setDef] = useState('');
  const [never, setNever] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);

  const reset = (p: KeyPolicy) => {
    setMax(String(p.max_days));
    setDef(String(p.default_days));
    setNever(p.allow_never);
    setErrors({});
    setFormError(null);
  };
  useEffect(() => {
    if (policy) reset(policy);
  }, [policy?.max_days, policy?.default_days, policy?.allow_never]);

  const dirty = !!policy && (max !== String(policy.max_days) || def !== String(policy.default_days) || never !== policy.allow_never);
  useUnsavedChanges(dirty && canWrite);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => setFailure(null), [max, def, never]);
  // Like every Settings form (ui/form.ts): the failure beside Save and in a toast, not only above.
  const failed = (text: string) => {
    setFailure(text);
    toast({ tone: 'danger', title: "Couldn't save the key policy", description: text });
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!policy || saving) return;
    const errs: Errors = {};
    const m = Number(max);
    const d = Number(def);
    const okInt = (n: number) => Number.isInteger(n) && n >= 1 && n <= LIMIT;
    if (!max.trim() || !okInt(m)) errs.max_days = `Enter a whole number of days from 1 to ${LIMIT}.`;
    if (!def.trim() || !okInt(d)) errs.default_days = `Enter a whole number of days from 1 to ${LIMIT}.`;
    else if (!errs.max_days && d > m) errs.default_days = 'The default can’t be longer than the maximum.';
    if (errs.max_days || errs.default_days) {
      setErrors(errs);
      document.getElementById(`${id}-${errs.max_days ? 'max' : 'default'}`)?.focus();
      failed(fieldsText(errs, null, FIELD_LABELS));
      return;
    }
    const patch: Partial<KeyPolicy> = {};
    if (m !== policy.max_days) patch.max_days = m;
    if (d !== policy.default_days) patch.default_days = d;
    if (never !== policy.allow_never) patch.allow_never = never;
    setSaving(true);
    setErrors({});
    setFormError(null);
    try {
      const next = await apiKeysApi.patchPolicy(wsId, patch);
      onSaved(next);
      toast({ title: 'Key policy saved', description: 'It applies to keys created from now on.' });
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) {
        const errs2: Errors = {};
        for (const fe of err.errors)
          if (fe.field === 'max_days' || fe.field === 'default_days' || fe.field === 'allow_never') errs2[fe.field] ??= fe.message;
        if (Object.keys(errs2).length) {
          setErrors(errs2);
          failed(fieldsText(errs2, null, FIELD_LABELS));
          return;
        }
      }
      const e2 = err instanceof ApiError ? err : new ApiError(0, { title: 'Something went wrong', detail: 'Try again.' });
      setFormError(e2);
      failed(e2.detail ?? e2.title);
    } finally {
      setSaving(false);
    }
  };

  const field = (
    key: 'max' | 'default',
    label: string,
    value: string,
    set: (v: string) => void,
    hint: string,
    err?: string,
  ) => (
    <div class={err ? 'field has-error policy-field' : 'field policy-field'}>
      <label class="field-label" for={`${id}-${key}`}>
        {label}
      </label>
      <div class="days-input">
        <input
          id={`${id}-${key}`}
          class="input"
          type="number"
          inputMode="numeric"
          min={1}
          max={LIMIT}
          step={1}
          value={value}
          disabled={!canWrite}
          data-field={key === 'max' ? 'max_days' : 'default_days'}
          aria-invalid={err ? 'true' : undefined}
          aria-describedby={[err && `${id}-${key}-error`, `${id}-${key}-hint`].filter(Boolean).join(' ')}
          onInput={(e) => {
            set(e.currentTarget.value);
            setErrors((x) => ({ ...x, [key === 'max' ? 'max_days' : 'default_days']: undefined }));
          }}
        />
        <span class="days-input-unit" aria-hidden="true">
          days
        </span>
      </div>
      {err && (
        <p class="field-error" id={`${id}-${key}-error`}>
          <IconAlert size={14} />
          <span>{err}</span>
        </p>
      )}
      <p class="field-hint" id={`${id}-${key}-hint`}>
        {hint}
      </p>
    </div>
  );

  return (
    <Card
      class="policy-card"
      title="Key policy"
      description={`Rules for new keys in ${workspace}. Keys that already exist keep their expiry.`}
      actions={
        policy && !canWrite ? <Badge tone="neutral">Owners and admins can change this</Badge> : undefined
      }
      footer={
        policy && canWrite ? (
          <div class="policy-footer">
            <SaveStatus
              class="policy-footer-note"
              failure={failure}
              dirty={dirty}
              note={!dirty && `Keys last at most ${lifetimeLabel(policy.max_days)}${policy.allow_never ? ', or forever' : ''}.`}
            />
            <div class="policy-footer-actions">
              {dirty && (
                <Button size="sm" onClick={() => reset(policy)} disabled={saving}>
                  Discard
                </Button>
              )}
              <Button size="sm" variant="primary" type="submit" form={`${id}-form`} loading={saving} disabled={!dirty}>
                Save policy
              </Button>
            </div>
          </div>
        ) : undefined
      }
    >
      {policy ? (
        <form id={`${id}-form`} class="policy-form" onSubmit={(e) => void save(e)} noValidate>
          {formError && (
            <Alert tone="danger" title={formError.title} class="policy-alert">
              {formError.detail ?? 'Please try again.'}
            </Alert>
          )}
          <div class="policy-grid">
            {field('max', 'Maximum lifetime', max, setMax, 'No new key may last longer than this.', errors.max_days)}
            {field('default', 'Default lifetime', def, setDef, 'Preselected when someone creates a key.', errors.default_days)}
          </div>
          <div class="policy-never">
            <Switch
              checked={never}
              onChange={(v) => setNever(v)}
              disabled={!canWrite}
              label="Allow keys that never expire"
              describedBy={`${id}-never-hint`}
            />
            <p class="field-hint" id={`${id}-never-hint`}>
              {never
                ? 'People can choose “Never” when they create a key. A leaked key that never expires works until someone notices and revokes it.'
                : 'Every key must have an expiry. Recommended: a leaked key then stops working on its own.'}
            </p>
          </div>
        </form>
      ) : error ? (
        <ErrorState error={error} title="Couldn't load the key policy" onRetry={onRetry} />
      ) : (
        <div class="card-loading">
          <Spinner label="Loading the key policy" />
        </div>
      )}
    </Card>
  );
}
