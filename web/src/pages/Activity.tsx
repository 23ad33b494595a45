// Activity: the workspace's audit log as a readable feed ("Olivia Owner changed seats from 12 to 15"),
// grouped by day, with filters (kind, person, dates), "Load more" and a CSV export of what the filters
// select. Every event type reads as a sentence with people's names, money and dates in the viewer's
// locale (the exact time on hover). Actions taken through agency access are marked.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { workspacesApi, type AuditEvent, type Role } from '../api';
import { teamApi } from '../api-team';
import { formatDateTime, formatFull, initials } from '../lib/format';
import { BUSINESS_TYPES, countryName, localeName } from '../lib/options';
import { summariseUserAgent } from '../lib/ua';
import { useSession } from '../session';
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorState,
  IconActivity,
  IconDownload,
  IconLayers,
  PageHeader,
  Select,
  Spinner,
  TextField,
} from '../ui';
import { findWorkspace, useWorkspaces, workspaceName } from '../workspace';
import { formatMoney } from './billing/model';
import { useTitle } from './title';
import type { WorkspacePageProps } from './WorkspaceRoutes';

const PAGE = 30;

const TYPES = [
  { value: 'workspace.', label: 'Workspace settings' },
  { value: 'member.', label: 'Members and roles' },
  { value: 'invitation.', label: 'Invitations' },
  { value: 'ownership.', label: 'Ownership' },
  { value: 'billing.', label: 'Billing' },
  { value: 'api_key.', label: 'API keys' },
  { value: 'subaccount.', label: 'Sub-accounts' },
  { value: 'notifications.', label: 'Notification preferences' },
  { value: 'user.', label: 'Account email' },
];

const ROLE_WORD: Record<string, string> = { owner: 'owner', admin: 'admin', member: 'member' };

const SUB_STATUS: Record<string, string> = {
  trialing: 'on trial',
  active: 'active',
  past_due: 'past due',
  unpaid: 'unpaid',
  paused: 'paused',
  canceled: 'cancelled',
  incomplete: 'waiting for the first payment',
  incomplete_expired: 'expired before the first payment',
};

const INTERVAL_WORD: Record<string, string> = { month: 'monthly', year: 'yearly' };

/** A plan id as a name: "growth" → "Growth". */
function planName(id: unknown): string {
  const s = typeof id === 'string' ? id : '';
  return s ? s.charAt(0).toUpperCase() + s.slice(1).replace(/[_-]/g, ' ') : 'another';
}

/** "1 seat", "15 seats". */
function seats(n: unknown): string {
  return Number(n) === 1 ? '1 seat' : `${Number(n)} seats`;
}

const FIELD_LABEL: Record<string, string> = {
  name: 'name',
  display_name: 'display name',
  slug: 'slug',
  logo_url: 'logo',
  timezone: 'time zone',
  locale: 'language and region',
  currency: 'currency',
  legal_name: 'legal business name',
  business_type: 'business type',
  industry: 'industry',
  country: 'country',
  address: 'business address',
  phone: 'business phone',
  website: 'website',
  tax_id: 'tax ID',
  status: 'status',
  status_reason: 'reason',
};

const GROUP_TITLE: Record<string, string> = {
  team: 'Team',
  billing: 'Billing',
  integrations: 'Integrations',
  imports: 'Imports',
  reviews: 'Reviews',
  security: 'Security',
};

const STATUS_WORD: Record<string, string> = {
  active: 'active',
  suspended: 'suspended',
  pending_deletion: 'pending deletion',
};

function show(field: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v !== 'string') return JSON.stringify(v);
  if (field === 'business_type') return BUSINESS_TYPES.find((b) => b.value === v)?.label ?? v;
  if (field === 'country') return `${countryName(v)}`;
  if (field === 'locale') return `${localeName(v)} (${v})`;
  if (field === 'status') return STATUS_WORD[v] ?? v.replace(/_/g, ' ');
  return v;
}

function Val({ children }: { children: ComponentChildren }) {
  return <span class="feed-value">{children}</span>;
}

/** One field change as words: "changed the time zone from A to B", "set …", "removed …". */
function changePhrase(field: string, c: { before: unknown; after: unknown }): ComponentChildren {
  const label = FIELD_LABEL[field] ?? field.replace(/_/g, ' ');
  const b = show(field, c.before);
  const a = show(field, c.after);
  if (!b && a)
    return (
      <>
        set the {label} to <Val>{a}</Val>
      </>
    );
  if (b && !a)
    return (
      <>
        removed the {label} (was <Val>{b}</Val>)
      </>
    );
  return (
    <>
      changed the {label} from <Val>{b}</Val> to <Val>{a}</Val>
    </>
  );
}

function notifPhrase(key: string, c: { before: unknown; after: unknown }): ComponentChildren {
  const [group, channel] = key.split('.');
  const title = GROUP_TITLE[group] ?? group;
  const what = channel === 'email' ? 'email' : 'in-app notifications';
  return (
    <>
      turned {c.after ? 'on' : 'off'} {what} for <Val>{title}</Val>
    </>
  );
}

interface Described {
  sentence: ComponentChildren;
  list?: ComponentChildren[];
  note?: ComponentChildren;
}

interface DescribeContext {
  wsId: string;
  currency: string;
  subName: (id: string | null) => string;
  /** A person's name from a member id, user id or email, when known. */
  personName: (key: unknown) => string | null;
}

function describe(e: AuditEvent, ctx: DescribeContext): Described {
  const ch = e.changes ?? {};
  const keys = Object.keys(ch);
  const self = e.target.id === ctx.wsId;
  const sub = () => (self ? 'this sub-account' : <Val>{ctx.subName(e.target.id)}</Val>);
  switch (e.action) {
    case 'workspace.created':
      return { sentence: <>created this workspace{ch.name?.after ? <> as <Val>{String(ch.name.after)}</Val></> : null}</> };
    case 'workspace.deleted':
      return { sentence: <>deleted this workspace</> };
    case 'workspace.updated':
      if (keys.length === 1) return { sentence: changePhrase(keys[0], ch[keys[0]]) };
      return {
        sentence: <>updated {keys.length} workspace settings</>,
        list: keys.map((k) => changePhrase(k, ch[k])),
      };
    case 'subaccount.created':
      return { sentence: <>created the sub-account <Val>{String(ch.name?.after ?? ctx.subName(e.target.id))}</Val></> };
    case 'subaccount.renamed': {
      if (ch.name)
        return {
          sentence: (
            <>
              renamed the sub-account <Val>{String(ch.name.before)}</Val> to <Val>{String(ch.name.after)}</Val>
            </>
          ),
          list: ch.display_name ? [changePhrase('display_name', ch.display_name)] : undefined,
        };
      return { sentence: <>renamed {sub()}</>, list: keys.map((k) => changePhrase(k, ch[k])) };
    }
    case 'subaccount.suspended':
      return {
        sentence: <>suspended {sub()}</>,
        note: ch.status_reason?.after ? <>Reason: “{String(ch.status_reason.after)}”</> : undefined,
      };
    case 'subaccount.reactivated':
      return { sentence: <>reactivated {sub()}</> };
    case 'subaccount.deletion_scheduled':
      return { sentence: <>scheduled {sub()} for deletion</>, note: <>It can be restored for 7 days.</> };
    case 'subaccount.restored':
      return { sentence: <>restored {sub()}</> };
    case 'notifications.updated':
      if (keys.length === 1) return { sentence: <>{notifPhrase(keys[0], ch[keys[0]])} (their own preferences)</> };
      return {
        sentence: <>changed {keys.length} of their notification preferences</>,
        list: keys.map((k) => notifPhrase(k, ch[k])),
      };
    case 'notifications.reset':
      return { sentence: <>reset their notification preferences to the defaults</> };
    default:
      return describeMore(e, ctx) ?? describeFallback(e);
  }
}

/** Team, ownership, billing, API key and account events. */
function describeMore(e: AuditEvent, ctx: DescribeContext): Described | null {
  const ch = e.changes ?? {};
  const them = <Val>{ctx.personName(e.target.id) ?? 'a member'}</Val>;
  const money = (minor: unknown) => formatMoney(Number(minor) || 0, ctx.currency);
  switch (e.action) {
    case 'member.role_changed':
      return {
        sentence: (
          <>
            changed the role of {them} from <Val>{ROLE_WORD[String(ch.role?.before)] ?? 'member'}</Val> to{' '}
            <Val>{ROLE_WORD[String(ch.role?.after)] ?? 'member'}</Val>
          </>
        ),
      };
    case 'member.deactivated':
      return { sentence: <>deactivated {them}</>, note: <>Their seat is free; their history stays.</> };
    case 'member.reactivated':
      return { sentence: <>reactivated {them}</> };
    case 'member.removed':
      return { sentence: <>removed {them} from the workspace</> };
    case 'member.left':
      return { sentence: <>left the workspace</> };
    case 'member.sessions_ended':
      return { sentence: <>signed {them} out of every device</> };
    case 'invitation.created': {
      const who = ctx.personName(ch.email?.after) ?? String(ch.email?.after ?? 'someone');
      return {
        sentence: (
          <>
            invited <Val>{who}</Val>
            {ch.role?.after ? <> as {ROLE_WORD[String(ch.role.after)] === 'admin' ? 'an' : 'a'} <Val>{ROLE_WORD[String(ch.role.after)] ?? 'member'}</Val></> : null}
          </>
        ),
      };
    }
    case 'invitation.accepted':
      return { sentence: <>accepted the invitation and joined{ch.role?.after ? <> as {ROLE_WORD[String(ch.role.after)] === 'admin' ? 'an' : 'a'} <Val>{ROLE_WORD[String(ch.role.after)]}</Val></> : null}</> };
    case 'invitation.resent':
    case 'invitation.remind':
      return { sentence: <>sent an invitation again</> };
    case 'invitation.revoked':
      return { sentence: <>cancelled an invitation</> };
    case 'ownership.transfer_proposed':
      return { sentence: <>offered ownership of the workspace to {them}</> };
    case 'ownership.transferred':
      return { sentence: <>became an owner of the workspace</> };
    case 'ownership.transfer_cancelled':
      return { sentence: <>cancelled an ownership transfer</> };
    case 'billing.subscription.created':
      return {
        sentence: (
          <>
            started the <Val>{planName(ch.plan?.after)}</Val> plan with <Val>{seats(ch.quantity?.after)}</Val>
            {ch.interval?.after ? <>, billed {INTERVAL_WORD[String(ch.interval.after)] ?? String(ch.interval.after)}</> : null}
          </>
        ),
      };
    case 'billing.subscription.updated':
    case 'billing.subscription.change_scheduled':
    case 'billing.subscription.change_applied': {
      const parts: ComponentChildren[] = [];
      if (ch.quantity && ch.quantity.before !== ch.quantity.after)
        parts.push(
          <>
            changed seats from <Val>{String(ch.quantity.before)}</Val> to <Val>{String(ch.quantity.after)}</Val>
          </>,
        );
      if (ch.plan && ch.plan.before !== ch.plan.after)
        parts.push(
          <>
            changed the plan from <Val>{planName(ch.plan.before)}</Val> to <Val>{planName(ch.plan.after)}</Val>
          </>,
        );
      if (ch.interval && ch.interval.before !== ch.interval.after)
        parts.push(
          <>
            switched to <Val>{INTERVAL_WORD[String(ch.interval.after)] ?? String(ch.interval.after)}</Val> billing
          </>,
        );
      const lead = e.action === 'billing.subscription.change_scheduled' ? <>scheduled for the next renewal: </> : e.action === 'billing.subscription.change_applied' ? <>applied the scheduled change: </> : null;
      if (parts.length === 0) return { sentence: <>{lead ?? 'updated the subscription'}</> };
      if (parts.length === 1) return { sentence: <>{lead}{parts[0]}</> };
      return { sentence: <>{lead ?? 'changed the subscription'}</>, list: parts };
    }
    case 'billing.subscription.cancel_scheduled':
      return {
        sentence: <>set the subscription to end when the current period ends</>,
        note: ch.reason?.after ? <>Reason: “{String(ch.reason.after)}”</> : undefined,
      };
    case 'billing.subscription.cancel_undone':
      return { sentence: <>kept the subscription (it no longer ends with the period)</> };
    case 'billing.subaccount.mode_changed':
      return {
        sentence:
          ch.billing_mode?.after === 'own' ? (
            <>gave {e.target.id === ctx.wsId ? 'this sub-account' : <Val>{ctx.subName(e.target.id)}</Val>} its own subscription</>
          ) : (
            <>moved the billing of {e.target.id === ctx.wsId ? 'this sub-account' : <Val>{ctx.subName(e.target.id)}</Val>} to the agency</>
          ),
      };
    case 'billing.subaccounts.paused':
      return { sentence: <>paused the sub-accounts this subscription pays for</> };
    case 'billing.dunning.step':
      return { sentence: <>sent payment reminder {String(ch.step?.after ?? '')} for an unpaid invoice</> };
    case 'billing.invoice.finalized':
      return {
        sentence: (
          <>
            issued invoice <Val>{String(ch.number?.after ?? '')}</Val> for <Val>{money(ch.total?.after)}</Val>
          </>
        ),
        note: ch.reason?.after ? <>For: {String(ch.reason.after).replace(/_/g, ' ')}</> : undefined,
      };
    case 'billing.invoice.paid':
      return { sentence: <>recorded a payment{ch.amount_paid?.after != null ? <> of <Val>{money(ch.amount_paid.after)}</Val></> : null} for an invoice</> };
    case 'billing.invoice.payment_failed':
      return {
        sentence: <>could not collect a payment for an invoice</>,
        note: ch.decline_code?.after ? <>The bank said: {String(ch.decline_code.after).replace(/_/g, ' ')}.</> : undefined,
      };
    case 'billing.invoice.payment_requested':
      return { sentence: <>asked for payment of an invoice</> };
    case 'billing.invoice.voided':
      return { sentence: <>voided an invoice</> };
    case 'billing.invoice.marked_uncollectible':
      return { sentence: <>marked an invoice as uncollectible</> };
    case 'billing.customer.updated':
      return { sentence: <>updated the billing details</>, list: Object.keys(ch).map((k) => changePhrase(k, ch[k])) };
    case 'billing.payment_method.updated':
      return { sentence: <>updated the payment method</> };
    case 'billing.recovery.retry':
      return { sentence: <>retried the payment of an unpaid invoice</> };
    case 'billing.recovery.recovered':
      return { sentence: <>recovered the unpaid subscription</> };
    case 'billing.test_clock.created':
      return { sentence: <>started a billing test clock</> };
    case 'billing.test_clock.advanced': {
      const to = ch.frozen_time?.after;
      return {
        sentence: (
          <>
            moved the billing test clock
            {typeof to === 'string' ? (
              <>
                {' '}
                to <Val><time dateTime={to} title={to}>{formatDateTime(to)}</time></Val>
              </>
            ) : null}
          </>
        ),
      };
    }
    case 'billing.test_clock.deleted':
      return { sentence: <>removed the billing test clock</> };
    case 'api_key.created':
      return { sentence: <>created an API key{ch.name?.after ? <> <Val>{String(ch.name.after)}</Val></> : null}</> };
    case 'api_key.rotated':
      return { sentence: <>rotated an API key{ch.name?.after ? <> <Val>{String(ch.name.after)}</Val></> : null}</> };
    case 'api_key.revoked':
      return { sentence: <>revoked an API key</> };
    case 'api_key.policy_updated':
      return { sentence: <>changed the API key rules</>, list: Object.keys(ch).map((k) => changePhrase(k, ch[k])) };
    case 'api_key.reuse_detected':
      return { sentence: <>saw an old API key used after it was rotated; the key family was revoked</> };
    case 'api_key.notices':
      return { sentence: <>sent API key expiry notices</> };
    case 'user.email_change_requested':
      return { sentence: <>asked to change their email address</> };
    case 'user.email_changed':
      return { sentence: <>changed their email address</> };
    case 'user.email_change_undone':
      return { sentence: <>undid a change of their email address</> };
    case 'workspace.delete':
      return { sentence: <>asked to delete this workspace</> };
    default:
      if (e.action.startsWith('billing.subscription.')) {
        const to = String(ch.status?.after ?? e.action.slice('billing.subscription.'.length));
        return {
          sentence: (
            <>
              moved the subscription to <Val>{SUB_STATUS[to] ?? to.replace(/_/g, ' ')}</Val>
              {ch.status?.before ? (
                <>
                  {' '}
                  (was {SUB_STATUS[String(ch.status.before)] ?? String(ch.status.before).replace(/_/g, ' ')})
                </>
              ) : null}
            </>
          ),
          note: ch.reason?.after ? <>Because {String(ch.reason.after)}.</> : undefined,
        };
      }
      return null;
  }
}

/** An event this page has no sentence for yet: its name in words and its changes. */
function describeFallback(e: AuditEvent): Described {
  const keys = Object.keys(e.changes ?? {});
  const words = e.action.split('.').slice(-1)[0].replace(/_/g, ' ');
  const area = e.action.split('.')[0].replace(/_/g, ' ');
  return {
    sentence: (
      <>
        {words} ({area})
      </>
    ),
    list: keys.length ? keys.map((k) => changePhrase(k, e.changes[k])) : undefined,
  };
}

const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

function dayLabel(d: Date): string {
  const today = new Date();
  const y = new Date(today);
  y.setDate(today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === y.toDateString()) return 'Yesterday';
  return dayFmt.format(d);
}

/** A yyyy-mm-dd from a date input as an RFC 3339 instant at the start (or end) of that local day. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function Activity({ wsId, section, workspace, sections }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  useTitle(workspace ? `${section.title} · ${name}` : section.title);
  const { state } = useSession();
  const { workspaces } = useWorkspaces();
  const me = state.status === 'signed-in' ? state.me.user : null;

  const [type, setType] = useState('');
  const [actor, setActor] = useState('');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [items, setItems] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [more, setMore] = useState(false);
  const [actors, setActors] = useState<Map<string, string>>(new Map());
  // Everyone in the workspace (owners and admins read the team): names for ids and addresses.
  const [people, setPeople] = useState<{ memberId: string; userId: string; name: string; email?: string; role: Role }[]>([]);
  const canReadTeam = sections.items.some((x) => x.id === 'team');
  // Amounts are in the workspace's currency (Workspace Settings), when the viewer can read it.
  const [docCurrency, setDocCurrency] = useState<string | null>(null);
  useEffect(() => {
    if (!sections.items.some((x) => x.id === 'workspace')) return;
    let live = true;
    workspacesApi
      .get(wsId)
      .then((r) => live && setDocCurrency(r.doc.currency ?? null))
      .catch(() => {
        /* Amounts fall back to US dollars. */
      });
    return () => {
      live = false;
    };
  }, [wsId]);

  useEffect(() => {
    if (!canReadTeam) return;
    const ctl = new AbortController();
    teamApi
      .members(wsId, { limit: 100, sort: 'name' }, ctl.signal)
      .then((r) =>
        setPeople(r.items.map((m) => ({ memberId: m.id, userId: m.user.id, name: m.user.name, email: m.user.email, role: m.role }))),
      )
      .catch(() => {
        /* Names fall back to what each event carries. */
      });
    return () => ctl.abort();
  }, [wsId, canReadTeam]);

  const query = () => ({
    action: type || undefined,
    actor: actor || undefined,
    since: dayBound(since, false),
    until: dayBound(until, true),
    limit: PAGE,
  });

  const learnActors = (list: AuditEvent[]) =>
    setActors((m) => {
      const copy = new Map(m);
      for (const e of list)
        if (e.actor.id && !copy.has(e.actor.id)) copy.set(e.actor.id, e.actor.name ?? e.actor.label ?? e.actor.id);
      return copy;
    });

  const load = (signal?: AbortSignal) => {
    setLoading(true);
    workspacesApi
      .activity(wsId, query(), signal)
      .then((r) => {
        setItems(r.items);
        setNext(r.next_cursor);
        setError(null);
        learnActors(r.items);
      })
      .catch((e) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
      })
      .finally(() => {
        if (!signal?.aborted) setLoading(false);
      });
  };

  useEffect(() => {
    const ctl = new AbortController();
    load(ctl.signal);
    return () => ctl.abort();
  }, [wsId, type, actor, since, until]);

  const loadMore = async () => {
    if (!next) return;
    setMore(true);
    try {
      const r = await workspacesApi.activity(wsId, { ...query(), cursor: next });
      setItems((list) => [...(list ?? []), ...r.items]);
      setNext(r.next_cursor);
      learnActors(r.items);
    } catch (e) {
      setError(e);
    } finally {
      setMore(false);
    }
  };

  const subName = (id: string | null) => {
    const w = findWorkspace(workspaces, id);
    return w ? workspaceName(w) : 'a sub-account';
  };
  const personName = (key: unknown): string | null => {
    if (typeof key !== 'string' || !key) return null;
    const p = people.find((x) => x.memberId === key || x.userId === key || x.email === key);
    return p?.name ?? null;
  };
  const actorName = (e: AuditEvent) => {
    if (me && e.actor.id === me.id) return me.name || me.email;
    if (e.actor.type === 'system') return 'Atrium';
    return e.actor.name || personName(e.actor.id) || personName(e.actor.label) || e.actor.label || 'Someone';
  };
  const currency = docCurrency || 'USD';

  /** The CSV export of what the filters select (the server streams every matching event). */
  const exportHref = () => {
    const p = new URLSearchParams();
    const q = query();
    for (const k of ['action', 'actor', 'since', 'until'] as const) if (q[k]) p.set(k, q[k] as string);
    const s = p.toString();
    return `/api/v1/workspaces/${encodeURIComponent(wsId)}/audit/export.csv${s ? `?${s}` : ''}`;
  };
  const isAgency = (e: AuditEvent) =>
    e.actor.type === 'agency' || (sections.kind === 'sub_account' && e.action.startsWith('subaccount.'));

  const filtered = !!(type || actor || since || until);
  const known = new Map<string, string>();
  for (const p of people) known.set(p.userId, p.name);
  for (const [id, label] of actors) if (!known.has(id)) known.set(id, label);
  const actorOptions = [
    ...(me ? [{ value: me.id, label: `${me.name || me.email} (you)` }] : []),
    ...[...known.entries()]
      .filter(([id]) => id !== me?.id)
      .sort((a, b) => a[1].localeCompare(b[1]))
      .map(([id, label]) => ({ value: id, label })),
  ];

  // Group by local day.
  const days: { label: string; key: string; events: AuditEvent[] }[] = [];
  for (const e of items ?? []) {
    const d = new Date(e.created_at);
    const key = d.toDateString();
    const last = days[days.length - 1];
    if (last && last.key === key) last.events.push(e);
    else days.push({ key, label: dayLabel(d), events: [e] });
  }

  return (
    <>
      <PageHeader
        title={section.title}
        description={`Who changed what in ${name}, and when. Entries are chained and can't be edited or removed.`}
        actions={
          <a class="btn btn-secondary btn-md" href={exportHref()} download data-testid="activity-export">
            <IconDownload size={16} />
            Export CSV
          </a>
        }
      />
      <div class="toolbar toolbar-standalone" role="search" aria-label="Filter activity">
        <Select
          label="Kind"
          name="type"
          size="sm"
          value={type}
          onValue={setType}
          placeholder="All kinds"
          options={TYPES}
          class="toolbar-select"
        />
        <Select
          label="Person"
          name="actor"
          size="sm"
          value={actor}
          onValue={setActor}
          placeholder="Anyone"
          options={actorOptions}
          class="toolbar-select"
        />
        <TextField name="since" label="From" type="date" value={since} onValue={setSince} max={until || undefined} class="toolbar-date" />
        <TextField name="until" label="To" type="date" value={until} onValue={setUntil} min={since || undefined} class="toolbar-date" />
        {filtered && (
          <Button
            size="sm"
            variant="ghost"
            class="toolbar-clear"
            onClick={() => {
              setType('');
              setActor('');
              setSince('');
              setUntil('');
            }}
          >
            Clear filters
          </Button>
        )}
      </div>
      <Card flush class="feed-card">
        {items && items.length > 0 ? (
          <div class="feed" aria-busy={loading || undefined}>
            {days.map((d) => (
              <section key={d.key} class="feed-day" aria-label={d.label}>
                <h2 class="feed-day-title">{d.label}</h2>
                <ol class="feed-list">
                  {d.events.map((e) => {
                    const desc = describe(e, { wsId, currency, subName, personName });
                    const agency = isAgency(e);
                    const who = actorName(e);
                    const ua = e.user_agent ? summariseUserAgent(e.user_agent).label : null;
                    return (
                      <li key={e.id} class="feed-item" data-action={e.action}>
                        <span class={e.actor.type === 'system' ? 'avatar avatar-sm avatar-system' : 'avatar avatar-sm'} aria-hidden="true">
                          {e.actor.type === 'system' ? 'A' : initials(who, e.actor.label ?? '')}
                        </span>
                        <div class="feed-body">
                          <p class="feed-sentence">
                            <strong class="feed-actor">{who}</strong> {desc.sentence}
                            {agency && (
                              <span class="feed-agency">
                                <Badge tone="accent">
                                  <IconLayers size={12} />
                                  Agency
                                </Badge>
                              </span>
                            )}
                          </p>
                          {desc.list && (
                            <ul class="feed-changes">
                              {desc.list.map((l, i) => (
                                <li key={i}>{l}</li>
                              ))}
                            </ul>
                          )}
                          {desc.note && <p class="feed-note">{desc.note}</p>}
                          <details class="feed-details">
                            <summary>
                              <time dateTime={e.created_at} title={e.created_at}>
                                {timeFmt.format(new Date(e.created_at))}
                              </time>
                              {e.ip && <span class="feed-dot">{e.ip}</span>}
                              {ua && <span class="feed-dot feed-ua">{ua}</span>}
                              <span class="feed-more">Details</span>
                            </summary>
                            <dl class="feed-meta">
                              <div>
                                <dt>Action</dt>
                                <dd class="mono">{e.action}</dd>
                              </div>
                              <div>
                                <dt>Actor</dt>
                                <dd>
                                  {e.actor.label ?? '—'} <span class="mono muted">{e.actor.id ?? e.actor.type}</span>
                                  {agency && ' · through agency access'}
                                </dd>
                              </div>
                              <div>
                                <dt>When</dt>
                                <dd>
                                  {formatFull(e.created_at)} <span class="mono muted">{e.created_at}</span>
                                </dd>
                              </div>
                              {e.request_id && (
                                <div>
                                  <dt>Request</dt>
                                  <dd class="mono">{e.request_id}</dd>
                                </div>
                              )}
                              {e.user_agent && (
                                <div>
                                  <dt>Browser</dt>
                                  <dd>{e.user_agent}</dd>
                                </div>
                              )}
                              <div>
                                <dt>Entry</dt>
                                <dd class="mono">
                                  #{e.seq} · {e.id}
                                </dd>
                              </div>
                            </dl>
                          </details>
                        </div>
                      </li>
                    );
                  })}
                </ol>
              </section>
            ))}
            <div class="feed-foot">
              {next ? (
                <Button onClick={loadMore} loading={more}>
                  Load more
                </Button>
              ) : (
                <p class="muted">That's everything{filtered ? ' that matches these filters' : ''}.</p>
              )}
            </div>
          </div>
        ) : items && !loading ? (
          <EmptyState icon={<IconActivity size={20} />} title={filtered ? 'No activity matches these filters' : 'No activity yet'}>
            {filtered ? 'Try a wider date range or another person.' : 'Changes to this workspace will show up here.'}
          </EmptyState>
        ) : error ? (
          <ErrorState error={error} title="Couldn't load the activity" onRetry={() => load()} retrying={loading} />
        ) : (
          <div class="card-loading">
            <Spinner label="Loading activity" />
          </div>
        )}
      </Card>
    </>
  );
}
