// Activity: the workspace's audit log as a readable feed ("Olivia Owner changed the time zone from
// America/New_York to Europe/Paris"), grouped by day, with filters and "Load more". Actions taken
// through agency access are marked.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { workspacesApi, type AuditEvent } from '../api';
import { formatFull, initials } from '../lib/format';
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
  IconLayers,
  PageHeader,
  Select,
  Spinner,
  TextField,
} from '../ui';
import { findWorkspace, useWorkspaces, workspaceName } from '../workspace';
import { useTitle } from './title';
import type { WorkspacePageProps } from './WorkspaceRoutes';

const PAGE = 30;

const TYPES = [
  { value: 'workspace.', label: 'Workspace settings' },
  { value: 'subaccount.', label: 'Sub-accounts' },
  { value: 'notifications.', label: 'Notification preferences' },
];

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
  if (field === 'status') return STATUS_WORD[v] ?? v;
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

function describe(e: AuditEvent, ctx: { wsId: string; subName: (id: string | null) => string }): Described {
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
    default: {
      const words = e.action.replace(/[._]/g, ' ');
      return { sentence: <>did “{words}”</>, list: keys.length ? keys.map((k) => changePhrase(k, ch[k])) : undefined };
    }
  }
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
      for (const e of list) if (e.actor.id && !copy.has(e.actor.id)) copy.set(e.actor.id, e.actor.label ?? e.actor.id);
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
  const actorName = (e: AuditEvent) => {
    if (me && e.actor.id === me.id) return me.name || me.email;
    return e.actor.label || (e.actor.type === 'system' ? 'Atrium' : 'Someone');
  };
  const isAgency = (e: AuditEvent) =>
    e.actor.type === 'agency' || (sections.kind === 'sub_account' && e.action.startsWith('subaccount.'));

  const filtered = !!(type || actor || since || until);
  const actorOptions = [
    ...(me ? [{ value: me.id, label: `${me.name || me.email} (you)` }] : []),
    ...[...actors.entries()].filter(([id]) => id !== me?.id).map(([id, label]) => ({ value: id, label })),
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
      />
      <div class="toolbar toolbar-standalone" role="search" aria-label="Filter activity">
        <Select
          label="Type"
          name="type"
          size="sm"
          value={type}
          onValue={setType}
          placeholder="All activity"
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
                    const desc = describe(e, { wsId, subName });
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
                              <time dateTime={e.created_at} title={formatFull(e.created_at)}>
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
                                <dd>{formatFull(e.created_at)}</dd>
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
