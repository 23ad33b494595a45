// The "Create API key" dialog: a name, who the key belongs to (the workspace or you), scopes picked
// per Settings section (no access / read / read & write), an expiry within the workspace policy, and an
// optional IP allowlist. Refusals from the server land on the field they name.
import type { JSX } from 'preact';
import { forwardRef } from 'preact/compat';
import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, type Role } from '../../api';
import { apiKeysApi, type CreateKeyBody, type KeyPolicy, type KeyWithSecret } from '../../api-keys';
import { formatDate } from '../../lib/format';
import { Alert, Button, Dialog, IconAlert, IconBuilding, IconUser, Spinner, TextArea, TextField } from '../../ui';
import { ROLE_LABEL } from '../../workspace';
import { DAY_MS, lifetimeLabel, type Access, type ScopeSection } from './model';

const PRESETS = [30, 90, 180, 365];
const NAME_MAX = 100;
/** The server keeps at most this many allowlist ranges (APIKEY_MAX_CIDRS). */
const CIDRS_MAX = 100;

type Errors = Partial<Record<'name' | 'owner' | 'scopes' | 'expiry' | 'allowed_cidrs', string>>;

/** The expiry choices the policy allows: the presets up to the maximum, plus the maximum itself. */
export function expiryPresets(policy: KeyPolicy): number[] {
  const list = PRESETS.filter((d) => d <= policy.max_days);
  if (policy.max_days < 365 && !list.includes(policy.max_days)) list.push(policy.max_days);
  return list;
}

function initialExpiry(policy: KeyPolicy): { choice: string; custom: string } {
  const d = Math.min(policy.default_days, policy.max_days);
  return expiryPresets(policy).includes(d) ? { choice: String(d), custom: '' } : { choice: 'custom', custom: String(d) };
}

export function CreateKeyDialog({
  open,
  wsId,
  workspace,
  parentName,
  myName,
  role,
  agency,
  policy,
  sections,
  loadError,
  onRetryLoad,
  onPolicyStale,
  onClose,
  onCreated,
}: {
  open: boolean;
  wsId: string;
  workspace: string;
  /** For agency access: the root the caller manages this workspace from. */
  parentName?: string;
  myName: string;
  role: Role;
  agency: boolean;
  policy: KeyPolicy | null;
  sections: ScopeSection[] | null;
  loadError: unknown;
  onRetryLoad: () => void;
  /** The server refused an expiry the page's copy of the policy allowed: reload it. */
  onPolicyStale: () => void;
  onClose: () => void;
  onCreated: (r: KeyWithSecret) => void;
}) {
  const id = useId();
  const nameRef = useRef<HTMLInputElement>(null);
  const scopesRef = useRef<HTMLFieldSetElement>(null);
  const expiryRef = useRef<HTMLFieldSetElement>(null);
  const ownerRef = useRef<HTMLFieldSetElement>(null);
  const cidrRef = useRef<HTMLTextAreaElement>(null);

  const [name, setName] = useState('');
  const [owner, setOwner] = useState<'workspace' | 'me'>('workspace');
  const [grants, setGrants] = useState<Record<string, Access>>({});
  const [expiry, setExpiry] = useState('90');
  const [customDays, setCustomDays] = useState('');
  const [cidrs, setCidrs] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const ready = !!policy && !!sections;

  useEffect(() => {
    if (!open) return;
    setName('');
    setOwner('workspace');
    setGrants({});
    setCidrs('');
    setErrors({});
    setFormError(null);
    if (policy) {
      const e = initialExpiry(policy);
      setExpiry(e.choice);
      setCustomDays(e.custom);
    }
  }, [open]);

  // The policy arrives after the dialog opened: start from its default.
  const policyKey = policy ? `${policy.max_days}/${policy.default_days}/${policy.allow_never}` : '';
  const seeded = useRef('');
  useEffect(() => {
    if (!open || !policy || seeded.current === policyKey) return;
    const first = seeded.current === '';
    seeded.current = policyKey;
    if (first) {
      const e = initialExpiry(policy);
      setExpiry(e.choice);
      setCustomDays(e.custom);
    } else {
      // The policy changed under the open dialog: drop a choice it no longer offers.
      setExpiry((cur) =>
        (/^\d+$/.test(cur) && !expiryPresets(policy).includes(Number(cur))) || (cur === 'never' && !policy.allow_never) ? '' : cur,
      );
    }
  }, [open, policyKey]);
  useEffect(() => {
    if (!open) seeded.current = '';
  }, [open]);

  const presets = policy ? expiryPresets(policy) : [];
  const days = expiry === 'custom' ? Number(customDays) : expiry === 'never' ? null : Number(expiry);
  const validDays = days !== null && Number.isInteger(days) && days >= 1;
  const selected = Object.keys(grants).length;

  const clearError = (k: keyof Errors) => setErrors((e) => (e[k] ? { ...e, [k]: undefined } : e));

  const setGrant = (section: string, access: Access | 'none') => {
    setGrants((g) => {
      const next = { ...g };
      if (access === 'none') delete next[section];
      else next[section] = access;
      return next;
    });
    clearError('scopes');
  };

  const focusFirst = (errs: Errors) => {
    if (errs.name) nameRef.current?.focus();
    else if (errs.owner) ownerRef.current?.querySelector<HTMLInputElement>('input:not([disabled])')?.focus();
    else if (errs.scopes) scopesRef.current?.querySelector<HTMLInputElement>('input')?.focus();
    else if (errs.expiry)
      (expiryRef.current?.querySelector<HTMLInputElement>('input[type="number"]') ??
        expiryRef.current?.querySelector<HTMLInputElement>('input:checked') ??
        expiryRef.current?.querySelector<HTMLInputElement>('input'))?.focus();
    else if (errs.allowed_cidrs) cidrRef.current?.focus();
  };

  const cidrLines = () =>
    cidrs
      .split(/[\n,]+/)
      .map((s) => s.trim())
      .filter(Boolean);

  const submit = async (e: JSX.TargetedEvent<HTMLFormElement, Event>) => {
    e.preventDefault();
    if (submitting || !policy || !sections) return;
    const errs: Errors = {};
    const trimmed = name.trim();
    if (!trimmed) errs.name = 'Give the key a name, e.g. where it will be used.';
    else if ([...trimmed].length > NAME_MAX) errs.name = `Keep the name to ${NAME_MAX} characters or fewer.`;
    if (selected === 0) errs.scopes = 'Choose at least one scope: what should this key be able to do?';
    if (expiry === '') errs.expiry = 'Choose when the key expires.';
    else if (expiry === 'custom') {
      if (!validDays) errs.expiry = 'Enter a whole number of days, 1 or more.';
      else if ((days as number) > policy.max_days) errs.expiry = `This workspace allows at most ${policy.max_days} days.`;
    }
    const lines = cidrLines();
    if (lines.length > CIDRS_MAX) errs.allowed_cidrs = `Add at most ${CIDRS_MAX} ranges.`;
    if (Object.values(errs).some(Boolean)) {
      setErrors(errs);
      setFormError(null);
      focusFirst(errs);
      return;
    }
    const body: CreateKeyBody = {
      name: trimmed,
      owner,
      scopes: Object.entries(grants).map(([s, a]) => `${s}:${a}`),
    };
    if (expiry === 'never') body.never_expires = true;
    else body.expires_in_days = days as number;
    if (lines.length) body.allowed_cidrs = lines;

    setErrors({});
    setFormError(null);
    setSubmitting(true);
    try {
      const r = await apiKeysApi.create(wsId, body);
      onCreated(r);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setFormError(new ApiError(0, { title: 'Something went wrong', detail: 'Try again in a moment.' }));
        return;
      }
      const errs2: Errors = {};
      const cidrProblems: string[] = [];
      const rest: string[] = [];
      for (const fe of err.errors) {
        const f = fe.field;
        const m = /^allowed_cidrs\[(\d+)\]$/.exec(f);
        if (f === 'name') errs2.name ??= fe.message;
        else if (f === 'owner') errs2.owner ??= fe.message;
        else if (f === 'scopes' || f.startsWith('scopes[')) errs2.scopes ??= fe.message;
        else if (f === 'expires_in_days' || f === 'never_expires') errs2.expiry ??= fe.message;
        else if (m) {
          const i = Number(m[1]);
          cidrProblems.push(`Line ${i + 1} (“${lines[i] ?? ''}”): ${fe.message}`);
        } else if (f === 'allowed_cidrs') errs2.allowed_cidrs ??= fe.message;
        else rest.push(fe.message);
      }
      if (cidrProblems.length) errs2.allowed_cidrs = cidrProblems.join(' ');
      if (errs2.expiry) onPolicyStale();
      if (Object.values(errs2).some(Boolean)) {
        setErrors(errs2);
        if (rest.length) setFormError(new ApiError(err.status, { title: err.title, detail: rest.join(' ') }));
        focusFirst(errs2);
      } else {
        setFormError(err);
      }
    } finally {
      setSubmitting(false);
    }
  };

  const close = () => {
    if (!submitting) onClose();
  };

  const expiryDate = validDays ? formatDate(new Date(Date.now() + (days as number) * DAY_MS).toISOString()) : null;
  const personalBlocked = agency;

  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      title="Create an API key"
      description={`A key lets a script, server or another tool call the Atrium API for ${workspace}, limited to the scopes you pick.`}
      initialFocus={nameRef}
      dismissable={!submitting}
      footer={
        <>
          <Button onClick={close} disabled={submitting}>
            Cancel
          </Button>
          <Button type="submit" form={`${id}-form`} variant="primary" loading={submitting} disabled={!ready}>
            Create key
          </Button>
        </>
      }
    >
      {!ready ? (
        loadError ? (
          <Alert tone="danger" title="Couldn't load the scopes and the key policy" class="apikey-form-gap">
            <p>{loadError instanceof ApiError ? (loadError.detail ?? loadError.title) : 'Try again in a moment.'}</p>
            <Button size="sm" onClick={onRetryLoad}>
              Try again
            </Button>
          </Alert>
        ) : (
          <div class="card-loading">
            <Spinner label="Loading the scopes" />
          </div>
        )
      ) : (
        <form id={`${id}-form`} class="dialog-form apikey-form" onSubmit={(e) => void submit(e)} noValidate>
          {formError && (
            <Alert tone="danger" title={formError.title}>
              {formError.detail ?? 'Please try again.'}
            </Alert>
          )}
          <TextField
            ref={nameRef}
            name="name"
            label="Name"
            value={name}
            onValue={(v) => {
              setName(v);
              clearError('name');
            }}
            error={errors.name}
            required
            maxLength={NAME_MAX}
            placeholder="e.g. CRM sync, Zapier, Nightly export"
            hint="Say where it's used, so you know what breaks if you revoke it."
            autoComplete="off"
          />

          <fieldset class="field fieldset" ref={ownerRef} aria-describedby={errors.owner ? `${id}-owner-error` : undefined}>
            <legend class="field-label">Owner</legend>
            <div class="owner-options">
              <label class={owner === 'workspace' ? 'option-card is-selected' : 'option-card'}>
                <input
                  type="radio"
                  name={`${id}-owner`}
                  value="workspace"
                  checked={owner === 'workspace'}
                  onChange={() => {
                    setOwner('workspace');
                    clearError('owner');
                  }}
                />
                <span class="option-card-icon" aria-hidden="true">
                  <IconBuilding size={16} />
                </span>
                <span class="option-card-text">
                  <span class="option-card-title">Workspace key</span>
                  <span class="option-card-desc">
                    Belongs to {workspace}, not to a person, so it keeps working when people leave. Acts as an admin
                    within its scopes. Best for integrations and servers.
                  </span>
                </span>
              </label>
              <label
                class={['option-card', owner === 'me' && 'is-selected', personalBlocked && 'is-disabled'].filter(Boolean).join(' ')}
              >
                <input
                  type="radio"
                  name={`${id}-owner`}
                  value="me"
                  checked={owner === 'me'}
                  disabled={personalBlocked}
                  onChange={() => {
                    setOwner('me');
                    clearError('owner');
                  }}
                />
                <span class="option-card-icon" aria-hidden="true">
                  <IconUser size={16} />
                </span>
                <span class="option-card-text">
                  <span class="option-card-title">Personal key</span>
                  <span class="option-card-desc">
                    {personalBlocked
                      ? `You manage ${workspace} from ${parentName ?? 'its agency'} rather than as a member, so keys you make here belong to the workspace.`
                      : `Acts as you (${myName}) with your role here (${ROLE_LABEL[role] ?? role}), within its scopes. Stops working if you leave or lose access. Best for your own scripts.`}
                  </span>
                </span>
              </label>
            </div>
            {errors.owner && <FieldError id={`${id}-owner-error`} text={errors.owner} />}
          </fieldset>

          <ScopePicker
            ref={scopesRef}
            sections={sections!}
            grants={grants}
            onGrant={setGrant}
            onAllRead={() => {
              const next: Record<string, Access> = {};
              for (const s of sections!) if (s.read) next[s.id] = grants[s.id] === 'write' ? 'write' : 'read';
              setGrants(next);
              clearError('scopes');
            }}
            onClear={() => setGrants({})}
            error={errors.scopes}
          />

          <fieldset
            class="field fieldset"
            ref={expiryRef}
            aria-describedby={[errors.expiry && `${id}-expiry-error`, `${id}-expiry-hint`].filter(Boolean).join(' ')}
          >
            <legend class="field-label">Expires</legend>
            <div class="segmented segmented-wrap" data-field="expiry">
              {presets.map((d) => (
                <Segment
                  key={d}
                  name={`${id}-expiry`}
                  value={String(d)}
                  checked={expiry === String(d)}
                  label={d === policy!.max_days && !PRESETS.includes(d) ? `${lifetimeLabel(d)} (max)` : lifetimeLabel(d)}
                  onSelect={(v) => {
                    setExpiry(v);
                    clearError('expiry');
                  }}
                />
              ))}
              <Segment
                name={`${id}-expiry`}
                value="custom"
                checked={expiry === 'custom'}
                label="Custom"
                onSelect={(v) => {
                  setExpiry(v);
                  if (!customDays) setCustomDays(String(Math.min(policy!.default_days, policy!.max_days)));
                  clearError('expiry');
                }}
              />
              {policy!.allow_never && (
                <Segment
                  name={`${id}-expiry`}
                  value="never"
                  checked={expiry === 'never'}
                  label="Never"
                  onSelect={(v) => {
                    setExpiry(v);
                    clearError('expiry');
                  }}
                />
              )}
            </div>
            {expiry === 'custom' && (
              <div class="custom-days">
                <label class="visually-hidden" for={`${id}-days`}>
                  Days until the key expires
                </label>
                <input
                  id={`${id}-days`}
                  class="input custom-days-input"
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={policy!.max_days}
                  step={1}
                  value={customDays}
                  data-field="expires_in_days"
                  aria-invalid={errors.expiry ? 'true' : undefined}
                  aria-describedby={[errors.expiry && `${id}-expiry-error`, `${id}-expiry-hint`].filter(Boolean).join(' ')}
                  onInput={(e) => {
                    setCustomDays(e.currentTarget.value);
                    clearError('expiry');
                  }}
                />
                <span class="custom-days-unit">days</span>
              </div>
            )}
            {errors.expiry && <FieldError id={`${id}-expiry-error`} text={errors.expiry} />}
            <p class="field-hint" id={`${id}-expiry-hint`}>
              {expiry === 'never'
                ? 'This key works until someone revokes it. Prefer an expiry: a leaked key then stops on its own.'
                : expiryDate
                  ? `Expires on ${expiryDate}. `
                  : expiry === ''
                    ? 'Choose how long the key lasts. '
                    : ''}
              {expiry !== 'never' &&
                `${workspace} allows keys of up to ${lifetimeLabel(policy!.max_days)}${policy!.allow_never ? ', or none' : ''}. You'll get an email before it expires.`}
            </p>
          </fieldset>

          <TextArea
            ref={cidrRef}
            name="allowed_cidrs"
            label="Allowed IP addresses"
            optional
            rows={3}
            value={cidrs}
            onValue={(v) => {
              setCidrs(v);
              clearError('allowed_cidrs');
            }}
            error={errors.allowed_cidrs}
            spellcheck={false}
            class="cidr-field"
            placeholder={'203.0.113.0/24\n2001:db8::/32'}
            hint="One address or range per line. Requests from anywhere else are refused. Leave empty to allow any address."
          />
        </form>
      )}
    </Dialog>
  );
}

function FieldError({ id, text }: { id: string; text: string }) {
  return (
    <p class="field-error" id={id}>
      <IconAlert size={14} />
      <span>{text}</span>
    </p>
  );
}

/** One option of a segmented radio group (a native radio, styled as a segment). */
function Segment({
  name,
  value,
  checked,
  label,
  srLabel,
  onSelect,
}: {
  name: string;
  value: string;
  checked: boolean;
  label: string;
  /** Words read after the visible label (e.g. the section name). */
  srLabel?: string;
  onSelect: (value: string) => void;
}) {
  return (
    <label class={checked ? 'segment is-checked' : 'segment'}>
      <input type="radio" name={name} value={value} checked={checked} onChange={() => onSelect(value)} />
      <span>
        {label}
        {srLabel && <span class="visually-hidden"> {srLabel}</span>}
      </span>
    </label>
  );
}


const ACCESS_TEXT: Record<Access | 'none', string> = { none: 'No access', read: 'Read', write: 'Read & write' };

/** Scopes per Settings section: no access, read, or read & write (write always includes read). */
const ScopePicker = forwardRef<
  HTMLFieldSetElement,
  {
    sections: ScopeSection[];
    grants: Record<string, Access>;
    onGrant: (section: string, access: Access | 'none') => void;
    onAllRead: () => void;
    onClear: () => void;
    error?: string;
  }
>(function ScopePicker({ sections, grants, onGrant, onAllRead, onClear, error }, ref) {
  const id = useId();
  const count = Object.keys(grants).length;
  const writes = useMemo(() => Object.values(grants).filter((a) => a === 'write').length, [grants]);
  return (
    <fieldset
      ref={ref}
      class={error ? 'field fieldset has-error' : 'field fieldset'}
      aria-describedby={[error && `${id}-error`, `${id}-hint`].filter(Boolean).join(' ')}
    >
      <legend class="field-label">Scopes</legend>
      <div class="scope-head">
        <p class="field-hint scope-hint" id={`${id}-hint`}>
          Pick the least the key needs. <strong>Read &amp; write</strong> always includes read.
        </p>
        <div class="scope-tools">
          <button type="button" class="text-button" onClick={onAllRead}>
            Read all
          </button>
          <button type="button" class="text-button" onClick={onClear} disabled={count === 0}>
            Clear
          </button>
        </div>
      </div>
      {error && <FieldError id={`${id}-error`} text={error} />}
      <ul class={error ? 'scope-list has-error' : 'scope-list'} data-field="scopes">
        {sections.map((s) => {
          const current: Access | 'none' = (grants[s.id] as Access | undefined) ?? 'none';
          const options: (Access | 'none')[] = ['none', ...(s.read ? (['read'] as const) : []), ...(s.write ? (['write'] as const) : [])];
          return (
            <li key={s.id} class={current === 'none' ? 'scope-row' : 'scope-row is-on'}>
              <div class="scope-text">
                <span class="scope-title" id={`${id}-${s.id}`}>
                  {s.title}
                </span>
                {s.summary && <span class="scope-summary">{s.summary}</span>}
              </div>
              <div class="segmented segmented-sm" role="radiogroup" aria-labelledby={`${id}-${s.id}`}>
                {options.map((a) => (
                  <Segment
                    key={a}
                    name={`${id}-scope-${s.id}`}
                    value={a}
                    checked={current === a}
                    label={ACCESS_TEXT[a]}
                    srLabel={s.title}
                    onSelect={() => onGrant(s.id, a)}
                  />
                ))}
              </div>
            </li>
          );
        })}
      </ul>
      <p class="scope-count" aria-live="polite">
        {count === 0
          ? 'No scopes chosen yet.'
          : `${count} section${count === 1 ? '' : 's'} chosen${writes ? `, ${writes} with write access` : ', read only'}.`}
      </p>
    </fieldset>
  );
});
