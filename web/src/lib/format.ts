// Dates for people: "Mar 4, 2025, 14:05" and "5 minutes ago", in the browser's locale.

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const dateTimeThisYear = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function parse(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "Mar 4, 2:05 PM" this year, "Mar 4, 2024, 2:05 PM" otherwise. */
export function formatDateTime(iso: string): string {
  const d = parse(iso);
  if (!d) return '—';
  return d.getFullYear() === new Date().getFullYear() ? dateTimeThisYear.format(d) : dateTime.format(d);
}

export function formatFull(iso: string): string {
  const d = parse(iso);
  return d ? full.format(d) : '';
}

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.345],
  ['month', 12],
  ['year', Infinity],
];

/** "just now", "5 minutes ago", "in 3 days". */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const d = parse(iso);
  if (!d) return '—';
  let delta = (d.getTime() - now) / 1000;
  if (Math.abs(delta) < 45) return 'just now';
  for (const [unit, size] of STEPS) {
    if (Math.abs(delta) < size) return relative.format(Math.round(delta), unit);
    delta /= size;
  }
  return dateTime.format(d);
}

/** A wait in seconds as words: "42 seconds", "3 minutes", "1 hour". */
export function formatWait(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.ceil(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}

export function initials(name: string, email: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = (w: string) => Array.from(w)[0] ?? '';
  if (parts.length >= 2) return (first(parts[0]) + first(parts[parts.length - 1])).toUpperCase();
  if (parts.length === 1) return Array.from(parts[0]).slice(0, 2).join('').toUpperCase();
  return Array.from(email).slice(0, 2).join('').toUpperCase();
}

/** "This password has 5 characters. Use at least 12." */
export function tooShort(password: string, min: number): string {
  const n = [...password].length;
  return `This password has ${n} character${n === 1 ? '' : 's'}. Use at least ${min}.`;
}


const dateOnly = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateOnlyThisYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** "Mar 4" this year, "Mar 4, 2024" otherwise. */
export function formatDate(iso: string): string {
  const d = parse(iso);
  if (!d) return '—';
  return d.getFullYear() === new Date().getFullYear() ? dateOnlyThisYear.format(d) : dateOnly.format(d);
}
