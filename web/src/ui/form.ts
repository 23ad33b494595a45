// Form helpers: local state for a form of text fields, client-side checks, and the mapping of a
// problem+json `errors[]` array onto the fields by their `field` name.
import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { ApiError, type FieldError } from '../api';
import { useUnsavedChanges } from '../lib/unsaved';
import { useToast } from './Toast';

export type FieldErrors = Record<string, string | undefined>;

/** Per-field, per-code wording that replaces the server's message (e.g. {email: {taken: '...'}}). */
export type ErrorMessages = Record<string, Record<string, string>>;

const GENERIC: Record<string, string> = {
  required: 'This field is required.',
  format: 'This value is not in the expected format.',
  length: 'This value has the wrong length.',
  taken: 'This value is already in use.',
  incorrect: 'This value is incorrect.',
  common_password: 'This password is too common. Choose a less predictable one.',
  unknown_field: 'This field is not accepted.',
};

/** The text to show for one problem+json field error. */
export function messageFor(err: FieldError, messages?: ErrorMessages): string {
  const custom = messages?.[err.field]?.[err.code];
  if (custom) return custom;
  if (err.message) return err.message;
  return GENERIC[err.code] ?? 'This value is not valid.';
}

/**
 * Splits a problem's errors[] into the ones that belong to fields of this form (first message per
 * field wins) and the rest, which the form shows in its summary banner.
 */
export function mapProblemErrors(
  error: ApiError,
  fields: readonly string[],
  messages?: ErrorMessages,
): { fieldErrors: FieldErrors; other: string[] } {
  const fieldErrors: FieldErrors = {};
  const other: string[] = [];
  for (const e of error.errors) {
    const text = messageFor(e, messages);
    if (fields.includes(e.field)) {
      if (!fieldErrors[e.field]) fieldErrors[e.field] = text;
    } else {
      other.push(text);
    }
  }
  return { fieldErrors, other };
}

/** Moves focus to the first field (in document order) that shows an error. */
export function focusFirstInvalid(root: ParentNode | null, errors: FieldErrors): void {
  if (!root) return;
  const inputs = Array.from(root.querySelectorAll<HTMLInputElement>('[data-field]'));
  const first = inputs.find((el) => errors[el.dataset.field ?? '']);
  first?.focus();
}

export interface FormOptions<V extends Record<string, string>> {
  initial: V;
  /** Client-side checks run before submitting; return messages for bad fields. */
  validate?: (values: V) => FieldErrors;
  onSubmit: (values: V) => Promise<void> | void;
  messages?: ErrorMessages;
  /**
   * A Settings form that saves: `what` names it in the failure toast ("Couldn't save {what}"), and
   * `dirty` says whether the values differ from the saved ones, which guards leaving the page and
   * closing the tab while they do (lib/unsaved.ts).
   */
  save?: { what: string; dirty: (values: V) => boolean };
}

export interface FieldBinding {
  name: string;
  value: string;
  onValue: (v: string) => void;
  error?: string;
}

export interface Form<V extends Record<string, string>> {
  values: V;
  errors: FieldErrors;
  /** An error that is not about one field (401, 429, 5xx, network), or null. */
  formError: ApiError | null;
  /** Messages from errors[] that name no field of this form. */
  otherErrors: string[];
  submitting: boolean;
  /** A save form's unsaved edits (opts.save.dirty), false for other forms. */
  dirty: boolean;
  /** Why the last save failed, in one line for the save bar beside the Save button, or null. */
  failure: string | null;
  field: (name: keyof V & string) => FieldBinding;
  setValue: (name: keyof V & string, value: string) => void;
  setErrors: (errors: FieldErrors) => void;
  setFormError: (error: ApiError | null) => void;
  reset: (values?: V) => void;
  onSubmit: (e: JSX.TargetedEvent<HTMLFormElement, Event>) => void;
}

export function useForm<V extends Record<string, string>>(opts: FormOptions<V>): Form<V> {
  const [values, setValues] = useState<V>(opts.initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<ApiError | null>(null);
  const [otherErrors, setOtherErrors] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const toast = useToast();
  const dirty = !!opts.save?.dirty(values);
  useUnsavedChanges(dirty);
  const latest = useRef(opts);
  latest.current = opts;
  const inFlight = useRef(false);

  const setValue = (name: keyof V & string, value: string) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors((errs) => (errs[name] ? { ...errs, [name]: undefined } : errs));
    setFailure(null);
  };

  // A failed save is said where the user is: on the fields (errors + focus), beside the Save button
  // (failure) and in a toast, never only in a banner at the top of the page.
  const reportFailure = (text: string) => {
    const save = latest.current.save;
    if (!save) return;
    setFailure(text);
    toast({ tone: 'danger', title: `Couldn't save ${save.what}`, description: text });
  };

  const onSubmit = async (e: JSX.TargetedEvent<HTMLFormElement, Event>) => {
    e.preventDefault();
    if (inFlight.current) return;
    const form = e.currentTarget;
    const { validate, onSubmit: submit, messages } = latest.current;
    const clientErrors = validate ? validate(values) : {};
    if (Object.values(clientErrors).some(Boolean)) {
      setErrors(clientErrors);
      setFormError(null);
      setOtherErrors([]);
      focusFirstInvalid(form, clientErrors);
      reportFailure(fieldsText(clientErrors, form));
      return;
    }
    setErrors({});
    setFormError(null);
    setOtherErrors([]);
    setFailure(null);
    inFlight.current = true;
    setSubmitting(true);
    try {
      await submit(values);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        console.error(err);
        setFormError(new ApiError(0, { title: 'Something went wrong', detail: 'An unexpected error occurred. Try again.' }));
        reportFailure('An unexpected error occurred. Try again.');
        return;
      }
      const { fieldErrors, other } = mapProblemErrors(err, Object.keys(values), messages);
      const hasFieldErrors = Object.values(fieldErrors).some(Boolean);
      setErrors(fieldErrors);
      setOtherErrors(other);
      if (!hasFieldErrors) setFormError(err);
      if (hasFieldErrors) focusFirstInvalid(form, fieldErrors);
      // 412 (changed by someone else) has its own notice; 401 signs out.
      if (err.status !== 412 && err.status !== 401)
        reportFailure(hasFieldErrors ? fieldsText(fieldErrors, form) : [err.detail ?? err.title, ...other].join(' '));
    } finally {
      inFlight.current = false;
      setSubmitting(false);
    }
  };

  return {
    values,
    errors,
    formError,
    otherErrors,
    submitting,
    dirty,
    failure,
    field: (name) => ({ name, value: values[name], onValue: (v: string) => setValue(name, v), error: errors[name] }),
    setValue,
    setErrors,
    setFormError,
    reset: (v) => {
      setValues(v ?? latest.current.initial);
      setErrors({});
      setFormError(null);
      setOtherErrors([]);
      setFailure(null);
    },
    onSubmit: (e) => void onSubmit(e),
  };
}

/**
 * Points at the fields that failed by their labels ("Check “Slug”.", "Check 2 fields: “Slug” and
 * “Phone”."); their own messages stay on the fields, so the words are not said twice.
 */
export function fieldsText(errors: FieldErrors, root?: ParentNode | null, labels?: Record<string, string>): string {
  const labelOf = (name: string) => {
    if (labels?.[name]) return labels[name];
    const input = root?.querySelector<HTMLElement>(`[data-field="${name}"]`);
    const label = input?.id ? root?.querySelector<HTMLElement>(`label[for="${input.id}"]`) : null;
    return (label?.firstChild?.textContent ?? label?.textContent ?? name).trim();
  };
  const names = Object.keys(errors)
    .filter((k) => errors[k])
    .map((k) => `“${labelOf(k)}”`);
  if (names.length === 1) return `Check ${names[0]}.`;
  return `Check ${names.length} fields: ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}.`;
}

/** A simple email shape check (the server is the judge; this only catches obvious typos early). */
export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim());
}
