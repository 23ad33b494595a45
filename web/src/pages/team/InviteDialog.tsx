// The invite dialog: paste or type addresses (commas, spaces, semicolons, new lines, or "Name <addr>"
// lines from a mail client) and they become chips, checked as you go; pick a role the caller may
// grant; add an optional note. After sending, the same dialog lists what happened to each address.
import type { JSX } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Role } from '../../api';
import { ApiError } from '../../api';
import { ROLE_INFO, teamApi, type InviteResult, type Seats } from '../../api-team';
import { formatDateTime } from '../../lib/format';
import { Link } from '../../router';
import { Alert, Button, Dialog, IconAlert, IconCheck, IconX, looksLikeEmail, Select, TextArea } from '../../ui';
import { plural, whyNotGrant } from './shared';

export const MAX_BATCH = 100;
const MESSAGE_MAX = 1000;

interface Chip {
  key: number;
  email: string;
  valid: boolean;
}

/** Addresses in pasted text: "Ada <ada@x.com>, bob@y.com; carl@z.com\n…" → ['ada@x.com', 'bob@y.com', 'carl@z.com']. */
export function parseAddresses(text: string): string[] {
  const unwrapped = text.replace(/(?:"[^"]*"|[^,;<>\n]*)<([^<>]+)>/g, ' $1 ').replace(/mailto:/gi, ' ');
  return unwrapped
    .split(/[\s,;]+/)
    .map((s) => s.trim().replace(/^[<("']+|[>)"'.]+$/g, ''))
    .filter(Boolean);
}

const ERROR_LABEL: Record<string, string> = {
  invalid_email: 'Not an email address',
  duplicate: 'Listed twice',
  already_member: 'Already a member',
  already_invited: 'Already invited',
  seats_full: 'No free seat',
};

export function InviteDialog({
  open,
  wsId,
  myRole,
  seats,
  workspace,
  billingPath,
  onClose,
  onSent,
}: {
  open: boolean;
  wsId: string;
  myRole: Role;
  seats: Seats | null;
  workspace: string;
  /** Where to add seats, when the caller can see Billing. */
  billingPath?: string;
  onClose: (invited: number) => void;
  /** After a send, whatever came back (to refresh the lists). */
  onSent: (invited: string[]) => void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const done = useRef<HTMLButtonElement>(null);
  const nextKey = useRef(1);
  const [chips, setChips] = useState<Chip[]>([]);
  const [draft, setDraft] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [note, setNote] = useState('');
  const [submitting, setSubmitting] = useState(false);
  const [results, setResults] = useState<InviteResult[] | null>(null);

  const reset = () => {
    setChips([]);
    setDraft('');
    setRole('member');
    setMessage('');
    setError(null);
    setFormError(null);
    setNote('');
    setResults(null);
  };
  useEffect(() => {
    if (open) reset();
  }, [open]);

  /** Adds addresses as chips (skipping ones already there); returns the list as it now is. */
  const add = (addresses: string[], base: Chip[] = chips): Chip[] => {
    const seen = new Set(base.map((c) => c.email.toLowerCase()));
    const next = [...base];
    let dupes = 0;
    let over = 0;
    for (const a of addresses) {
      const key = a.toLowerCase();
      if (seen.has(key)) {
        dupes++;
        continue;
      }
      if (next.length >= MAX_BATCH) {
        over++;
        continue;
      }
      seen.add(key);
      next.push({ key: nextKey.current++, email: a, valid: looksLikeEmail(a) && a.length <= 254 });
    }
    const notes = [];
    if (over) notes.push(`You can invite up to ${MAX_BATCH} people at once; ${plural(over, 'address was', 'addresses were')} left out.`);
    if (dupes) notes.push(`${plural(dupes, 'duplicate')} skipped.`);
    setNote(notes.join(' '));
    if (addresses.length) setError(null);
    setChips(next);
    return next;
  };

  const commitDraft = (): Chip[] => {
    const parts = parseAddresses(draft);
    setDraft('');
    return parts.length ? add(parts) : chips;
  };

  const onInput = (e: JSX.TargetedEvent<HTMLInputElement, Event>) => {
    const value = e.currentTarget.value;
    // A separator typed (or a list put in by other means): everything before the last one becomes chips.
    const m = /^(.*)[\s,;]([^\s,;]*)$/s.exec(value);
    if (m && parseAddresses(m[1]).length) {
      add(parseAddresses(m[1]));
      setDraft(m[2]);
    } else {
      setDraft(value.replace(/^[\s,;]+/, ''));
    }
  };

  const onPaste = (e: JSX.TargetedClipboardEvent<HTMLInputElement>) => {
    const text = e.clipboardData?.getData('text') ?? '';
    if (!/[\s,;<]/.test(text.trim())) return; // one plain address: let it land in the box
    e.preventDefault();
    add(parseAddresses(draft + ' ' + text));
    setDraft('');
  };

  const onKeyDown = (e: JSX.TargetedKeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      if (draft.trim()) commitDraft();
      else void submit();
    } else if (e.key === 'Backspace' && !draft && chips.length) {
      e.preventDefault();
      const last = chips[chips.length - 1];
      setChips(chips.slice(0, -1));
      setDraft(last.email);
    }
  };

  const remove = (key: number) => {
    setChips((list) => list.filter((c) => c.key !== key));
    input.current?.focus();
  };

  const valid = chips.filter((c) => c.valid);
  const invalid = chips.filter((c) => !c.valid);
  const free = seats?.available ?? Infinity; // unknown in a sub-account whose agency provides the seats
  const full = seats !== null && seats.full;

  const submit = async () => {
    if (submitting) return;
    const list = commitDraft();
    const ok = list.filter((c) => c.valid);
    const bad = list.filter((c) => !c.valid);
    if (list.length === 0) {
      setError('Add at least one email address.');
      input.current?.focus();
      return;
    }
    if (bad.length) {
      setError(`Fix or remove ${bad.length === 1 ? 'the address' : `the ${bad.length} addresses`} marked in red.`);
      input.current?.focus();
      return;
    }
    if (whyNotGrant(role, myRole)) return;
    setError(null);
    setFormError(null);
    setSubmitting(true);
    try {
      const r = await teamApi.invite(
        wsId,
        ok.map((c) => c.email),
        role,
        message.trim() || undefined,
      );
      setResults(r);
      onSent(r.filter((x) => x.status === 'invited').map((x) => x.email));
      window.setTimeout(() => done.current?.focus(), 0);
    } catch (e) {
      setFormError(e instanceof ApiError ? e : new ApiError(0, { title: 'Something went wrong', detail: 'Try again.' }));
    } finally {
      setSubmitting(false);
    }
  };

  const invited = results?.filter((r) => r.status === 'invited') ?? [];
  const failed = results?.filter((r) => r.status === 'error') ?? [];
  const close = () => {
    if (!submitting) onClose(invited.length);
  };

  if (results) {
    const retry = failed.filter((r) => r.error?.code === 'seats_full' || r.error?.code === 'invalid_email');
    return (
      <Dialog
        open={open}
        onClose={close}
        size="lg"
        title={
          failed.length === 0
            ? invited.length === 1
              ? 'Invitation sent'
              : `${invited.length} invitations sent`
            : invited.length === 0
              ? 'No invitations were sent'
              : `${invited.length} of ${results.length} invitations sent`
        }
        description={
          invited.length > 0
            ? `Each person gets an email with a link to join ${workspace} as ${ROLE_INFO[role].label.toLowerCase()}. Reminders go out after 2 and 5 days.`
            : 'Nothing was sent. The reasons are below.'
        }
        footer={
          <>
            <Button
              onClick={() => {
                const keep = retry.map((r) => r.email);
                reset();
                if (keep.length) add(keep, []);
                window.setTimeout(() => input.current?.focus(), 0);
              }}
            >
              {retry.length ? `Edit and retry ${retry.length === 1 ? 'the failed one' : `the ${retry.length} failed`}` : 'Invite more people'}
            </Button>
            <Button ref={done} variant="primary" onClick={close}>
              Done
            </Button>
          </>
        }
      >
        <ul class="invite-results" aria-label="Result for each address">
          {results.map((r, i) => (
            <li key={`${r.email}-${i}`} class={r.status === 'invited' ? 'invite-result is-ok' : 'invite-result is-error'} data-email={r.email}>
              <span class="invite-result-icon" aria-hidden="true">
                {r.status === 'invited' ? <IconCheck size={16} /> : <IconAlert size={16} />}
              </span>
              <span class="invite-result-text">
                <span class="invite-result-email">{r.email}</span>
                {r.status === 'invited' ? (
                  <span class="invite-result-note">
                    <span class="visually-hidden">Invited. </span>
                    Invited as {ROLE_INFO[r.invitation?.role ?? role].label}
                    {r.invitation && <> · link valid until {formatDateTime(r.invitation.expires_at)}</>}
                  </span>
                ) : (
                  <span class="invite-result-note">
                    <strong>{ERROR_LABEL[r.error?.code ?? ''] ?? 'Not invited'}:</strong> {r.error?.message ?? 'This address was refused.'}
                    {r.error?.code === 'seats_full' && billingPath && (
                      <>
                        {' '}
                        <Link href={billingPath}>Add seats in Billing</Link>
                      </>
                    )}
                  </span>
                )}
              </span>
            </li>
          ))}
        </ul>
      </Dialog>
    );
  }

  const seatsHint = myRole === 'owner' ? 'Add seats in Billing.' : 'An owner can add seats in Billing.';
  const roleOptions = (['member', 'admin', 'owner'] as Role[]).map((r) => {
    const why = whyNotGrant(r, myRole);
    return { value: r, label: why ? `${ROLE_INFO[r].label} — ${why.replace(/\.$/, '')}` : ROLE_INFO[r].label, disabled: !!why };
  });

  return (
    <Dialog
      open={open}
      onClose={close}
      size="lg"
      title={`Invite people to ${workspace}`}
      description="They get an email with a link to join. Links work for 7 days, and you can resend them."
      initialFocus={input}
      dismissable={!submitting}
      footer={
        <>
          <Button onClick={close} disabled={submitting}>
            Cancel
          </Button>
          <Button type="submit" form={`${id}-form`} variant="primary" loading={submitting} disabled={full}>
            {valid.length > 1 ? `Send ${valid.length} invitations` : 'Send invitation'}
          </Button>
        </>
      }
    >
      <form
        id={`${id}-form`}
        class="dialog-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {formError && (
          <Alert tone="danger" title={formError.title}>
            {formError.errors[0]?.message ?? formError.detail ?? 'Please try again.'}
          </Alert>
        )}
        {full ? (
          <Alert tone="warning" title={seats?.provided_by ? `All seats provided by ${seats.provided_by.name} are in use` : `All ${seats?.limit} seats are in use`}>
            Nobody new can join until a seat frees up.{' '}
            {seats?.provided_by ? `Ask ${seats.provided_by.name} to add seats.` : billingPath ? <Link href={billingPath}>Add seats in Billing</Link> : seatsHint}{' '}
            You can also cancel a pending invitation or remove someone.
          </Alert>
        ) : (
          seats &&
          valid.length > free && (
            <Alert tone="warning" title={`Only ${plural(free, 'seat is', 'seats are')} free`}>
              {free === 1 ? 'Only the first address' : `Only the first ${free} addresses`} will be invited; the rest will be refused.{' '}
              {billingPath ? <Link href={billingPath}>Add seats in Billing</Link> : seatsHint}
            </Alert>
          )
        )}
        <div class={error ? 'field has-error' : 'field'}>
          <div class="field-label-row">
            <label class="field-label" for={`${id}-emails`}>
              Email addresses
            </label>
            <span class={chips.length >= MAX_BATCH ? 'field-counter is-over' : 'field-counter'}>
              {chips.length} / {MAX_BATCH}
            </span>
          </div>
          <div
            class={['chips-box', error && 'has-error'].filter(Boolean).join(' ')}
            onClick={(e) => {
              if (e.target === e.currentTarget) input.current?.focus();
            }}
          >
            {chips.length > 0 && (
              <ul class="chips" aria-label="Addresses to invite">
                {chips.map((c) => (
                  <li key={c.key} class={c.valid ? 'chip' : 'chip is-invalid'} data-email={c.email}>
                    {!c.valid && <IconAlert size={12} />}
                    <span class="chip-text">{c.email}</span>
                    {!c.valid && <span class="visually-hidden"> (not a valid email address)</span>}
                    <button type="button" class="chip-remove" aria-label={`Remove ${c.email}`} onClick={() => remove(c.key)}>
                      <IconX size={12} />
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <input
              ref={input}
              id={`${id}-emails`}
              class="chips-input"
              type="text"
              inputMode="email"
              autoComplete="off"
              autoCapitalize="none"
              spellcheck={false}
              value={draft}
              placeholder={chips.length ? 'Add more…' : 'name@company.com, another@company.com'}
              aria-invalid={error || invalid.length ? 'true' : undefined}
              aria-describedby={[error && `${id}-error`, `${id}-hint`].filter(Boolean).join(' ')}
              onInput={onInput}
              onPaste={onPaste}
              onKeyDown={onKeyDown}
              onBlur={() => draft.trim() && commitDraft()}
            />
          </div>
          {error && (
            <p class="field-error" id={`${id}-error`}>
              <IconAlert size={14} />
              <span>{error}</span>
            </p>
          )}
          <p class="field-hint" id={`${id}-hint`}>
            Paste a list or type addresses, separated by commas, spaces or new lines.
            {invalid.length > 0 && !error && (
              <span class="chips-warning"> {plural(invalid.length, "address isn't", "addresses aren't")} valid.</span>
            )}
          </p>
          <p class="visually-hidden" aria-live="polite">
            {note || (chips.length ? `${plural(chips.length, 'address', 'addresses')} added.` : '')}
          </p>
          {note && (
            <p class="field-hint chips-note" aria-hidden="true">
              {note}
            </p>
          )}
        </div>
        <Select
          name="role"
          label="Role"
          value={role}
          onValue={(v) => setRole(v as Role)}
          options={roleOptions}
          hint={ROLE_INFO[role].summary}
        />
        <TextArea
          name="message"
          label="Personal note"
          optional
          rows={3}
          maxLength={MESSAGE_MAX}
          counter
          value={message}
          onValue={setMessage}
          placeholder={`e.g. Welcome aboard! You'll find the client files in ${workspace}.`}
          hint="Added to the invitation email."
        />
      </form>
    </Dialog>
  );
}
