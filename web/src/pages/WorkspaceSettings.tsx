// Workspace Settings ("Sub Account" inside a sub-account): identity, business setup and regional
// defaults, the workspace's place in its agency, and the checklist before inviting the team. Saves
// with If-Match; a 412 says "Changed by someone else" and offers a reload, never overwriting.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, workspacesApi, type WorkspaceDoc, type WorkspaceFields } from '../api';
import { formatDateTime } from '../lib/format';
import { BUSINESS_TYPES, countryOptions, currencyOptions, localeOptions, timezoneGroups } from '../lib/options';
import { Link } from '../router';
import {
  Alert,
  Badge,
  Button,
  Card,
  ErrorState,
  IconCheck,
  IconChevronRight,
  IconCopy,
  IconLayers,
  IconRefresh,
  PageHeader,
  Select,
  TextArea,
  TextField,
  SaveStatus,
  useForm,
  useToast,
  type Form,
} from '../ui';
import { findWorkspace, ROLE_LABEL, useWorkspaces, workspaceName, workspacePath } from '../workspace';
import { useTitle } from './title';
import { PageSpinner, type WorkspacePageProps } from './WorkspaceRoutes';

const FIELDS = [
  'name',
  'display_name',
  'slug',
  'logo_url',
  'legal_name',
  'business_type',
  'industry',
  'tax_id',
  'country',
  'phone',
  'address',
  'website',
  'timezone',
  'locale',
  'currency',
] as const satisfies readonly (keyof WorkspaceFields)[];

type Values = Record<(typeof FIELDS)[number], string>;

/** Fields that cannot be cleared (everything else accepts null). */
const REQUIRED = new Set(['name', 'slug']);

function valuesOf(doc: WorkspaceDoc): Values {
  const v = {} as Values;
  for (const f of FIELDS) v[f] = (doc[f] as string | null) ?? '';
  return v;
}

/** The merge patch from the saved document to the form: only what changed; blank clears. */
function patchOf(doc: WorkspaceDoc, values: Values): Partial<WorkspaceFields> {
  const patch: Record<string, string | null> = {};
  for (const f of FIELDS) {
    const next = values[f].trim();
    const before = (doc[f] as string | null) ?? '';
    if (next === before) continue;
    patch[f] = next === '' && !REQUIRED.has(f) ? null : next;
  }
  return patch as Partial<WorkspaceFields>;
}

export function WorkspaceSettings({ wsId, section, workspace }: WorkspacePageProps) {
  const name = workspace ? workspaceName(workspace) : '';
  useTitle(name ? `${section.title} · ${name}` : section.title);
  const [doc, setDoc] = useState<{ doc: WorkspaceDoc; etag: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);

  const load = () => {
    setLoading(true);
    workspacesApi
      .get(wsId)
      .then((d) => {
        setDoc(d);
        setError(null);
      })
      .catch((e) => setError(e))
      .finally(() => setLoading(false));
  };
  useEffect(load, [wsId]);

  const isSub = workspace?.kind === 'sub_account' || doc?.doc.kind === 'sub_account';
  return (
    <>
      <PageHeader
        title={section.title}
        description={
          isSub
            ? `Identity and business details of ${name || 'this sub-account'}, and the agency that manages it.`
            : `Identity and business details of ${name || 'this workspace'}. Review them before you invite your team.`
        }
      />
      {doc ? (
        <SettingsForm
          key={doc.doc.id}
          wsId={wsId}
          initial={doc}
          readOnly={section.access !== 'write'}
          onReloaded={setDoc}
        />
      ) : error ? (
        <ErrorState error={error} title="Couldn't load the settings" onRetry={load} retrying={loading} />
      ) : (
        <PageSpinner label="Loading settings" />
      )}
    </>
  );
}

function SettingsForm({
  wsId,
  initial,
  readOnly,
  onReloaded,
}: {
  wsId: string;
  initial: { doc: WorkspaceDoc; etag: string };
  readOnly: boolean;
  onReloaded: (d: { doc: WorkspaceDoc; etag: string }) => void;
}) {
  const toast = useToast();
  const { reloadWorkspaces, loadSections } = useWorkspaces();
  const [saved, setSaved] = useState(initial);
  const [conflict, setConflict] = useState(false);
  const [reloading, setReloading] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const conflictRef = useRef<HTMLDivElement>(null);

  const form = useForm<Values>({
    initial: valuesOf(initial.doc),
    validate: (v) => ({
      name: v.name.trim() ? undefined : 'Give the workspace a name.',
      slug: v.slug.trim() ? undefined : 'A workspace needs a slug; it is used in links.',
    }),
    save: { what: 'the workspace settings', dirty: (v) => !readOnly && Object.keys(patchOf(saved.doc, v)).length > 0 },
    onSubmit: async (v) => {
      const patch = patchOf(saved.doc, v);
      if (Object.keys(patch).length === 0) return;
      try {
        const next = await workspacesApi.patch(wsId, saved.etag, patch);
        setSaved(next);
        onReloaded(next);
        form.reset(valuesOf(next.doc));
        setConflict(false);
        toast({ title: 'Settings saved' });
        if ('name' in patch || 'display_name' in patch || 'slug' in patch) void reloadWorkspaces();
      } catch (e) {
        if (e instanceof ApiError && e.status === 412) {
          setConflict(true);
          return;
        }
        if (e instanceof ApiError && e.status === 403) void loadSections(wsId);
        throw e;
      }
    },
  });

  useEffect(() => {
    if (!conflict) return;
    conflictRef.current?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    conflictRef.current?.focus({ preventScroll: true });
  }, [conflict]);

  const reload = async () => {
    setReloading(true);
    try {
      const next = await workspacesApi.get(wsId);
      setSaved(next);
      onReloaded(next);
      form.reset(valuesOf(next.doc));
      setConflict(false);
      toast({ tone: 'info', title: 'Loaded the latest settings', description: 'Make your changes again, then save.' });
    } catch (e) {
      toast({ tone: 'danger', title: "Couldn't reload", description: e instanceof ApiError ? (e.detail ?? e.title) : undefined });
    } finally {
      setReloading(false);
    }
  };

  const dirty = form.dirty;
  const doc = saved.doc;
  const f = (n: keyof Values) => ({ ...form.field(n), disabled: readOnly });

  const focusField = (field: string) => {
    const el = formRef.current?.querySelector<HTMLElement>(`[data-field="${field}"]`);
    if (!el) return;
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el.focus({ preventScroll: true });
    el.closest('.field')?.classList.add('is-highlighted');
    window.setTimeout(() => el.closest('.field')?.classList.remove('is-highlighted'), 1600);
  };

  return (
    <div class="settings-layout">
      <Checklist doc={doc} onPick={focusField} />
      <form ref={formRef} class="settings-main" onSubmit={form.onSubmit} noValidate aria-label="Workspace settings">
        <StatusNotice doc={doc} />
        {readOnly && (
          <Alert tone="info" title="View only" class="settings-alert">
            Your role can see these settings but not change them.
          </Alert>
        )}
        {conflict && (
          <div ref={conflictRef} tabIndex={-1} class="settings-alert conflict" role="alert">
            <div class="conflict-text">
              <p class="conflict-title">Changed by someone else</p>
              <p>
                Someone saved these settings after you opened them. Your edits were <strong>not</strong> saved, so
                nothing was overwritten. Reload to see the latest version, then make your changes again.
              </p>
            </div>
            <Button variant="primary" icon={<IconRefresh size={16} />} loading={reloading} onClick={reload}>
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

        <Card
          title="Identity"
          description={`How this ${doc.kind === 'sub_account' ? 'sub-account' : 'workspace'} is named and recognised by your team and your customers.`}
        >
          <div class="form-grid">
            <TextField
              {...f('name')}
              label={doc.kind === 'sub_account' ? 'Sub-account name' : 'Workspace name'}
              required
              autoComplete="organization"
              hint="The name your team sees in Atrium."
            />
            <TextField
              {...f('display_name')}
              label="Display name"
              optional
              hint="What your customers see, if different. Atrium and your team use the workspace name."
            />
            <TextField
              {...f('slug')}
              label="Slug"
              required
              spellcheck={false}
              autoCapitalize="off"
              hint="Used in links: 3–48 lowercase letters, digits and dashes."
            />
            <div class="logo-field">
              <TextField
                {...f('logo_url')}
                label="Logo URL"
                type="url"
                optional
                spellcheck={false}
                placeholder="https://"
                hint="An https:// link to your logo, ideally 350 × 180 px."
              />
              {doc.logo_url && (
                <span class="logo-preview">
                  <img src={doc.logo_url} alt={`Current logo of ${workspaceName(doc)}`} />
                </span>
              )}
            </div>
          </div>
        </Card>

        <Card title="Business setup" description="Legal and contact details used on invoices, in messages and for compliance.">
          <div class="form-grid">
            <TextField {...f('legal_name')} label="Legal business name" optional hint="Exactly as registered; printed on invoices unless the billing details name someone else." />
            <Select {...f('business_type')} label="Business type" optional placeholder="Not set" options={BUSINESS_TYPES} />
            <TextField {...f('industry')} label="Industry" optional placeholder="e.g. Dental clinics" />
            <TextField {...f('tax_id')} label="Tax ID" optional hint="VAT, EIN or your local tax number." />
            <Select {...f('country')} label="Country" optional placeholder="Not set" options={countryOptions()} />
            <TextField
              {...f('phone')}
              label="Business phone"
              type="tel"
              optional
              autoComplete="tel"
              hint="With the country code, e.g. +1 415 555 0100."
            />
            <TextArea {...f('address')} label="Business address" optional rows={3} class="span-2" />
            <TextField
              {...f('website')}
              label="Website"
              type="url"
              optional
              spellcheck={false}
              placeholder="https://"
              class="span-2"
            />
          </div>
        </Card>

        <Card title="Regional defaults" description="Used for dates, times and amounts everywhere in this workspace.">
          <div class="form-grid form-grid-3">
            <Select {...f('timezone')} label="Time zone" placeholder="Not set" groups={timezoneGroups()} />
            <Select {...f('locale')} label="Language and region" placeholder="Not set" options={localeOptions()} />
            <Select {...f('currency')} label="Currency" placeholder="Not set" options={currencyOptions()} />
          </div>
        </Card>

        {!readOnly && (
          <SaveBar
            form={form}
            dirty={dirty}
            conflict={conflict}
            reloading={reloading}
            onReload={reload}
            onDiscard={() => form.reset(valuesOf(doc))}
          />
        )}
      </form>
      <ContextCard wsId={wsId} doc={doc} />
    </div>
  );
}

function SaveBar({
  form,
  dirty,
  conflict,
  reloading,
  onReload,
  onDiscard,
}: {
  form: Form<Values>;
  dirty: boolean;
  conflict: boolean;
  reloading: boolean;
  onReload: () => void;
  onDiscard: () => void;
}) {
  return (
    <div class={['savebar', dirty && 'is-dirty', conflict && 'is-conflict'].filter(Boolean).join(' ')}>
      <SaveStatus
        failure={conflict ? null : form.failure}
        dirty={dirty}
        note={
          conflict && (
            <>
              <strong>Changed by someone else.</strong> Reload before saving.
            </>
          )
        }
      />
      <div class="savebar-actions">
        {conflict ? (
          <Button variant="primary" icon={<IconRefresh size={16} />} loading={reloading} onClick={onReload}>
            Reload
          </Button>
        ) : (
          <>
            <Button variant="ghost" disabled={!dirty || form.submitting} onClick={onDiscard}>
              Discard
            </Button>
            <Button type="submit" variant="primary" disabled={!dirty} loading={form.submitting}>
              Save changes
            </Button>
          </>
        )}
      </div>
    </div>
  );
}

/** For the agency looking at a sub-account that is not active. */
function StatusNotice({ doc }: { doc: WorkspaceDoc }) {
  if (doc.status === 'active') return null;
  const parent = doc.context.parent;
  const manage = parent && (
    <Link href={workspacePath(parent.id, 'subaccounts')}>Manage it in {workspaceName(parent)}’s Sub-Accounts</Link>
  );
  if (doc.status === 'pending_deletion')
    return (
      <Alert tone="danger" title="Scheduled for deletion" class="settings-alert">
        {workspaceName(doc)} will be deleted{doc.deletion_due_at ? ` on ${formatDateTime(doc.deletion_due_at)}` : ''}. Its
        members can no longer open it. {manage}
      </Alert>
    );
  return (
    <Alert tone="warning" title="This sub-account is suspended" class="settings-alert">
      Its members can't use it{doc.status_reason ? `: “${doc.status_reason}”` : ''}. {manage}
    </Alert>
  );
}

function Checklist({ doc, onPick }: { doc: WorkspaceDoc; onPick: (field: string) => void }) {
  const done = doc.checklist.filter((c) => c.done).length;
  const total = doc.checklist.length;
  const bar = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (bar.current) bar.current.style.width = `${total ? Math.round((done / total) * 100) : 0}%`;
  }, [done, total]);
  if (total === 0) return null;
  return (
    <Card
      class="checklist-card settings-check"
      title="Before you invite the team"
      description={done === total ? 'Everything is set up.' : `${done} of ${total} done. Pick a step to fill it in.`}
      actions={done === total ? <Badge tone="success">Complete</Badge> : undefined}
    >
      <div
        class="progress"
        role="progressbar"
        aria-label="Setup progress"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${total} done`}
      >
        <span ref={bar} class="progress-bar" />
      </div>
      <ul role="list" class="checklist">
        {doc.checklist.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              class={c.done ? 'checklist-item is-done' : 'checklist-item'}
              data-checklist={c.id}
              onClick={() => onPick(c.field)}
            >
              <span class="checklist-mark" aria-hidden="true">
                {c.done ? <IconCheck size={18} /> : <span class="checklist-dot" />}
              </span>
              <span class="checklist-label">
                {c.label}
                <span class="visually-hidden">{c.done ? ' (done)' : ' (to do)'}</span>
              </span>
              <IconChevronRight size={16} />
            </button>
          </li>
        ))}
      </ul>
    </Card>
  );
}

function ContextCard({ wsId, doc }: { wsId: string; doc: WorkspaceDoc }) {
  const { workspaces } = useWorkspaces();
  const toast = useToast();
  const ctx = doc.context;
  const me = findWorkspace(workspaces, wsId);
  const parent = ctx.parent;
  const parentReachable = parent ? !!findWorkspace(workspaces, parent.id) : false;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(doc.id);
      toast({ title: 'Workspace ID copied' });
    } catch {
      toast({ tone: 'danger', title: "Couldn't copy", description: 'Select the ID and copy it by hand.' });
    }
  };

  return (
    <Card
      class="context-card settings-context"
      title={ctx.kind === 'sub_account' ? 'Part of an agency' : 'About this workspace'}
      description={
        ctx.kind === 'sub_account'
          ? "This is a sub-account. Its agency's owners act in it as owners (billing included), its admins as admins."
          : (ctx.subaccount_count ?? 0) > 0
            ? 'An agency workspace: it manages sub-accounts of its own.'
            : 'A top-level workspace. It can have sub-accounts of its own.'
      }
    >
      <dl class="facts">
        {ctx.kind === 'sub_account' && parent && (
          <div class="fact">
            <dt>Agency</dt>
            <dd>
              {parentReachable ? (
                <Link href={workspacePath(parent.id, 'workspace')} class="fact-link">
                  <IconLayers size={14} />
                  {workspaceName(parent)}
                </Link>
              ) : (
                workspaceName(parent)
              )}
            </dd>
          </div>
        )}
        <div class="fact">
          <dt>Members</dt>
          <dd>{ctx.member_count}</dd>
        </div>
        {ctx.kind === 'root' && (
          <div class="fact">
            <dt>Sub-accounts</dt>
            <dd>
              {ctx.subaccount_count ?? 0}
              {me && (me.role === 'owner' || me.role === 'admin') && (
                <>
                  {' · '}
                  <Link href={workspacePath(wsId, 'subaccounts')}>Manage</Link>
                </>
              )}
            </dd>
          </div>
        )}
        {me && (
          <div class="fact">
            <dt>Your access</dt>
            <dd>
              {ctx.agency_access ? (
                <span class="agency-marker">
                  <IconLayers size={12} />
                  Agency access (admin)
                </span>
              ) : (
                ROLE_LABEL[me.role] ?? me.role
              )}
            </dd>
          </div>
        )}
        <div class="fact">
          <dt>Created</dt>
          <dd>
            <time dateTime={doc.created_at}>{formatDateTime(doc.created_at)}</time>
          </dd>
        </div>
        <div class="fact fact-id">
          <dt>Workspace ID</dt>
          <dd>
            <code class="mono">{doc.id}</code>
            <button type="button" class="icon-button icon-button-sm" aria-label="Copy workspace ID" onClick={copy}>
              <IconCopy size={14} />
            </button>
          </dd>
        </div>
      </dl>
      {ctx.kind === 'sub_account' && ctx.managed_by && ctx.managed_by.length > 0 && (
        <div class="managers">
          <p class="managers-title">Managed by</p>
          <ul role="list">
            {ctx.managed_by.map((m) => (
              <li key={m.email} class="manager">
                <span class="avatar avatar-sm" aria-hidden="true">
                  {initialsOf(m.name || m.email)}
                </span>
                <span class="manager-text">
                  <span class="manager-name">{m.name}</span>
                  <span class="manager-email">{m.email}</span>
                </span>
                <Badge tone="neutral">{ROLE_LABEL[m.role] ?? m.role}</Badge>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}

function initialsOf(name: string): string {
  const parts = name.trim().split(/\s+/);
  return ((parts[0]?.[0] ?? '') + (parts.length > 1 ? parts[parts.length - 1][0] : (parts[0]?.[1] ?? ''))).toUpperCase();
}
