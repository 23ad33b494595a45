// What the API Keys page works out from the raw data: scopes grouped per Settings section, a key's
// scopes as section + access, and which keys need attention (expiring soon, unused for a long time).
import type { ApiKey, Scope } from '../../api-keys';

export const DAY_MS = 86_400_000;
/** Keys that expire within this many days are flagged. */
export const SOON_DAYS = 30;
/** Keys unused (or never used) for this many days are flagged. */
export const STALE_DAYS = 90;

export type Access = 'read' | 'write';

export interface ScopeSection {
  id: string;
  title: string;
  summary: string;
  read?: Scope;
  write?: Scope;
}

function humanize(id: string): string {
  const s = id.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The scope list as one entry per section, in the server's order. */
export function groupScopes(scopes: Scope[]): ScopeSection[] {
  const out: ScopeSection[] = [];
  const by = new Map<string, ScopeSection>();
  for (const s of scopes) {
    let sec = by.get(s.section);
    if (!sec) {
      sec = { id: s.section, title: humanize(s.section), summary: '' };
      by.set(s.section, sec);
      out.push(sec);
    }
    if (s.access === 'read') {
      sec.read = s;
      // "Read Team: Members, invitations, roles, seats." → title "Team", summary "Members, …".
      const m = /^Read (.+?): (.*)$/.exec(s.description);
      if (m) {
        sec.title = m[1];
        sec.summary = m[2];
      }
    } else {
      sec.write = s;
    }
  }
  return out;
}

/** A key's scopes as one entry per section: write wins over read (write includes read). */
export function scopeGrants(scopes: string[]): { section: string; access: Access }[] {
  const by = new Map<string, Access>();
  for (const id of scopes) {
    const i = id.lastIndexOf(':');
    if (i < 0) continue;
    const section = id.slice(0, i);
    const access = id.slice(i + 1) === 'write' ? 'write' : 'read';
    if (by.get(section) !== 'write') by.set(section, access);
  }
  return [...by.entries()].map(([section, access]) => ({ section, access }));
}

export function sectionTitle(sections: ScopeSection[], id: string): string {
  return sections.find((s) => s.id === id)?.title ?? humanize(id);
}

/** A section's name for a chip: "Workspace Settings" → "Workspace". */
export function chipTitle(sections: ScopeSection[], id: string): string {
  return sectionTitle(sections, id).replace(/ Settings$/, '');
}

/** Days until the key expires (fractional), or null when it never does. */
export function daysLeft(k: ApiKey, now: number): number | null {
  if (!k.expires_at) return null;
  const t = Date.parse(k.expires_at);
  return Number.isNaN(t) ? null : (t - now) / DAY_MS;
}

/** A short-lived key (a lifetime of SOON_DAYS or less) is flagged in its last SHORT_SOON_DAYS only. */
export const SHORT_SOON_DAYS = 7;

/**
 * An active key that expires within SOON_DAYS. A key made to last SOON_DAYS or less would be flagged
 * from the moment it is created, so it is flagged in its last SHORT_SOON_DAYS instead.
 */
export function expiresSoon(k: ApiKey, now: number): boolean {
  if (k.status !== 'active') return false;
  const d = daysLeft(k, now);
  if (d === null || d <= 0) return false;
  const lifetime = (Date.parse(k.expires_at!) - Date.parse(k.created_at)) / DAY_MS;
  return d <= (lifetime <= SOON_DAYS + 0.5 ? SHORT_SOON_DAYS : SOON_DAYS);
}

/** An active key not used for STALE_DAYS (or never used, STALE_DAYS after it was made). */
export function isStale(k: ApiKey, now: number): boolean {
  if (k.status !== 'active') return false;
  const since = Date.parse(k.last_used_at ?? k.created_at);
  return !Number.isNaN(since) && now - since >= STALE_DAYS * DAY_MS;
}

/** "12 days", "1 day", "less than a day". */
export function daysText(days: number): string {
  if (days < 1) return 'less than a day';
  const n = Math.floor(days);
  return `${n} day${n === 1 ? '' : 's'}`;
}

/** "30 days", "1 year". */
export function lifetimeLabel(days: number): string {
  if (days === 365) return '1 year';
  return `${days} day${days === 1 ? '' : 's'}`;
}

/** The prefix as people see it: "atr_4SlVOAYS…". */
export function maskedPrefix(prefix: string): string {
  return `${prefix}…`;
}
