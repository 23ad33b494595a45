// The workspace part of the app: "/" picks a workspace, /w/{id} opens its first section, and
// /w/{id}/settings/{section} shows a section the API listed for the caller (or says why not).
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Section, Sections, WorkspaceSummary } from '../api';
import { Link, Redirect } from '../router';
import { statusBadge } from '../shell/WorkspaceSwitcher';
import { WorkspaceTile } from '../shell/WorkspaceTile';
import { ErrorState, IconArrowRight, IconCompass, IconLock, Spinner } from '../ui';
import {
  findWorkspace,
  firstSectionPath,
  ROLE_LABEL,
  useCurrentWorkspaceId,
  useSections,
  useWorkspaces,
  workspaceName,
  workspacePath,
} from '../workspace';
import { Activity } from './Activity';
import { ApiKeys } from './apikeys/ApiKeys';
import { Billing } from './billing/Billing';
import { BillingRecovery } from './billing/Recovery';
import { Notifications } from './Notifications';
import { SubAccounts } from './SubAccounts';
import { TeamDirectory } from './team/Directory';
import { Team } from './team/Team';
import { overdueList } from '../shell/PaymentNotice';
import { useTitle } from './title';
import { WorkspaceSettings } from './WorkspaceSettings';

/** What every workspace page receives. */
export interface WorkspacePageProps {
  wsId: string;
  section: Section;
  sections: Sections;
  workspace?: WorkspaceSummary;
  /** The rest of the path after the section (e.g. "portal" in /w/{id}/settings/billing/portal). */
  subpath?: string;
}

const PAGES: Record<string, (p: WorkspacePageProps) => ComponentChildren> = {
  workspace: (p) => <WorkspaceSettings {...p} />,
  notifications: (p) => <Notifications {...p} />,
  subaccounts: (p) => <SubAccounts {...p} />,
  // Members read the team as a directory; owners and admins manage it.
  team: (p) => (p.section.access === 'write' ? <Team {...p} /> : <TeamDirectory {...p} />),
  activity: (p) => <Activity {...p} />,
  api_keys: (p) => <ApiKeys {...p} />,
  billing: (p) => <Billing {...p} />,
  billing_recovery: (p) => <BillingRecovery {...p} />,
};

/** Sections with pages below them (/w/{id}/settings/{section}/{subpath}). */
const SUBPATHS = new Set(['billing']);

/** Section ids the product knows (DESIGN.md §1), for a clear "not available here" instead of a 404. */
const KNOWN = new Set([
  'workspace',
  'profile',
  'notifications',
  'team',
  'billing',
  'subaccounts',
  'integrations',
  'plugins',
  'import',
  'api_keys',
  'business_profile',
  'voice',
  'activity',
  'snapshots',
  'dev_admin',
  'labs',
  'billing_recovery',
]);

export function PageSpinner({ label }: { label: string }) {
  return (
    <div class="page-spinner">
      <Spinner size={24} label={label} />
    </div>
  );
}

/** "/" and "/settings": the remembered workspace (or the first one), else the account pages. */
export function Home() {
  const { workspaces, reloadWorkspaces } = useWorkspaces();
  const id = useCurrentWorkspaceId();
  useTitle('Settings');
  if (workspaces.status === 'loading') return <PageSpinner label="Loading your workspaces" />;
  if (workspaces.status === 'error')
    return <ErrorState error={workspaces.error} title="Couldn't load your workspaces" onRetry={() => void reloadWorkspaces()} />;
  return <Redirect to={id ? workspacePath(id) : '/settings/profile'} />;
}

/** /w/{id}: the workspace's first section. */
export function WorkspaceHome({ wsId }: { wsId: string }) {
  const state = useSections(wsId);
  return (
    <Gate wsId={wsId} state={state}>
      {(data) => <Redirect to={firstSectionPath(wsId, data)} />}
    </Gate>
  );
}

export function WorkspaceSection({ wsId, section, subpath }: { wsId: string; section: string; subpath?: string }) {
  const state = useSections(wsId);
  const { workspaces } = useWorkspaces();
  const workspace = findWorkspace(workspaces, wsId);
  return (
    <Gate wsId={wsId} state={state}>
      {(data) => {
        const s = data.items.find((x) => x.id === section);
        if (!s) {
          if (!KNOWN.has(section)) return <NotFoundInWorkspace wsId={wsId} data={data} />;
          return <NotHere wsId={wsId} data={data} section={section} workspace={workspace} />;
        }
        const page = PAGES[s.id];
        if (subpath && !SUBPATHS.has(s.id)) return <NotFoundInWorkspace wsId={wsId} data={data} />;
        if (!page) return <ComingSoon section={s} />;
        return page({ wsId, section: s, sections: data, workspace, subpath });
      }}
    </Gate>
  );
}

/** Renders children with the sections once they are there, or the loading / locked / missing state. */
function Gate({
  wsId,
  state,
  children,
}: {
  wsId: string;
  state: ReturnType<typeof useSections>;
  children: (data: Sections) => ComponentChildren;
}) {
  const { remember, loadSections } = useWorkspaces();
  useEffect(() => {
    if (state.status === 'ready') remember(wsId);
  }, [wsId, state.status]);
  if (state.status === 'loading') return <PageSpinner label="Loading workspace" />;
  if (state.status === 'locked') return <WorkspaceLocked wsId={wsId} title={state.title} detail={state.detail} />;
  if (state.status === 'not-found') return <WorkspaceNotFound />;
  if (state.status === 'error')
    return <ErrorState error={state.error} title="Couldn't open this workspace" onRetry={() => void loadSections(wsId)} />;
  return <>{children(state.data)}</>;
}

function WorkspaceNotFound() {
  useTitle('Workspace not found');
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconCompass size={24} />
      </div>
      <p class="not-found-code">404</p>
      <h1 tabIndex={-1}>Workspace not found</h1>
      <p class="not-found-text">
        This workspace doesn't exist, or you don't have access to it. Pick one of yours from the switcher at the top.
      </p>
      <Link href="/" class="btn btn-primary btn-md">
        Go to my workspace
      </Link>
    </div>
  );
}

function NotFoundInWorkspace({ wsId, data }: { wsId: string; data: Sections }) {
  useTitle('Page not found');
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconCompass size={24} />
      </div>
      <p class="not-found-code">404</p>
      <h1 tabIndex={-1}>Page not found</h1>
      <p class="not-found-text">There is no such Settings page. Check the address, or head back.</p>
      <Link href={firstSectionPath(wsId, data)} class="btn btn-primary btn-md">
        Back to Settings
      </Link>
    </div>
  );
}

/** "Pro", "Pro or Agency", "Starter, Pro or Agency". */
function planNames(plans: { name: string }[]): string {
  const n = plans.map((p) => p.name);
  return n.length <= 1 ? n.join('') : `${n.slice(0, -1).join(', ')} or ${n[n.length - 1]}`;
}

/**
 * A section the caller cannot open here, with the reason the API gives (GET .../sections →
 * unavailable): the plan (which plan, where it is available), the payment state (which invoices), the
 * workspace kind, or the role. A plan or payment matter never reads as a role problem.
 */
function NotHere({
  wsId,
  data,
  section,
  workspace,
}: {
  wsId: string;
  data: Sections;
  section: string;
  workspace?: WorkspaceSummary;
}) {
  const u = data.unavailable?.find((x) => x.id === section);
  const sees = (id: string) => data.items.some((s) => s.id === id);
  const name = workspace ? workspaceName(workspace) : 'this workspace';
  const alert = data.billing_alert;
  let title = 'Not available here';
  let why: ComponentChildren = "This section isn't available in this workspace.";
  let billing = false;
  if (u?.reason === 'payment') {
    const plan = u.plan?.name ?? 'Your plan';
    const agency = alert?.billed_by_agency || !u.overdue;
    title = `${u.title} is off until payment`;
    why = (
      <>
        {plan} includes {u.title}, but {agency ? "your agency's" : 'the'} subscription is{' '}
        {alert?.status === 'past_due' ? 'past due' : 'unpaid'}, so paid features are off.{' '}
        {u.overdue && u.overdue.invoices.length > 0
          ? `Pay ${u.overdue.invoices.length === 1 ? 'invoice' : 'invoices'} ${overdueList(u.overdue, alert?.currency ?? 'USD')} to turn it back on.`
          : agency
            ? 'It comes back when the agency that manages this workspace pays.'
            : 'It comes back when the open invoice is paid.'}
      </>
    );
    billing = sees('billing');
  } else if (u?.reason === 'plan') {
    title = `${u.title} is not on your plan`;
    why = `${u.title} is not on your plan (${u.plan?.name ?? 'your current plan'}); available on ${planNames(u.plans ?? [])}.${
      sees('billing') ? '' : ` Ask an owner of ${name} to change the plan.`
    }`;
    billing = sees('billing');
  } else if (u?.reason === 'kind' || (section === 'subaccounts' && data.kind === 'sub_account')) {
    why = 'Sub-accounts are managed from the agency workspace they belong to, not from inside a sub-account.';
  } else if (u?.reason === 'role') {
    why = `Your role here (${ROLE_LABEL[data.role] ?? data.role}) doesn't include this section. Ask an owner or admin of ${name} if you need it.`;
  }
  useTitle(title);
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconLock size={22} />
      </div>
      <h1 tabIndex={-1}>{title}</h1>
      <p class="not-found-text">{why}</p>
      <div class="not-found-actions">
        {billing && (
          <Link href={workspacePath(wsId, 'billing')} class="btn btn-primary btn-md">
            {u?.reason === 'payment' ? 'Go to Billing' : 'Compare plans in Billing'}
          </Link>
        )}
        <Link href={firstSectionPath(wsId, data)} class={billing ? 'btn btn-secondary btn-md' : 'btn btn-primary btn-md'}>
          Back to Settings
        </Link>
      </div>
    </div>
  );
}

function ComingSoon({ section }: { section: Section }) {
  useTitle(section.title);
  return (
    <div class="not-found">
      <div class="not-found-icon" aria-hidden="true">
        <IconCompass size={24} />
      </div>
      <h1 tabIndex={-1}>{section.title}</h1>
      <p class="not-found-text">This section isn't in the web app yet. It is available through the API.</p>
    </div>
  );
}

/**
 * The screen a member of a suspended (or pending-deletion) sub-account sees: what happened, the
 * reason the agency gave, and the way to somewhere else.
 */
export function WorkspaceLocked({ wsId, title, detail }: { wsId: string; title: string; detail?: string }) {
  const { workspaces } = useWorkspaces();
  const ws = findWorkspace(workspaces, wsId);
  const name = ws ? workspaceName(ws) : 'This workspace';
  const pending = ws?.status === 'pending_deletion' || /deletion/i.test(title);
  const heading = pending ? `${name} is scheduled for deletion` : `${name} is suspended`;
  useTitle(heading);
  const others =
    workspaces.status === 'ready'
      ? workspaces.items.filter((w) => w.id !== wsId && (w.status === 'active' || w.agency))
      : [];
  const reason = detail && detail.trim() !== title.trim() ? detail : undefined;
  return (
    <div class="locked">
      <div class="locked-card">
        <div class="locked-icon" aria-hidden="true">
          <IconLock size={22} />
        </div>
        <div class="locked-badges">{ws && statusBadge(ws.status)}</div>
        <h1 tabIndex={-1}>{heading}</h1>
        <p class="locked-text">
          {pending
            ? 'Its members can no longer open it. The agency that manages it can still restore it for a few days; after that it is deleted for good.'
            : "Its members can't use it until the agency that manages it reactivates it. Your account and your other workspaces are not affected."}
        </p>
        {reason && (
          <figure class="locked-reason">
            <figcaption>Reason given</figcaption>
            <blockquote>{reason}</blockquote>
          </figure>
        )}
        <p class="locked-help">If you think this is a mistake, contact the agency that manages {name}.</p>
        <div class="locked-actions">
          <Link href="/settings/profile" class="btn btn-secondary btn-md">
            Your profile
          </Link>
          <Link href="/settings/security" class="btn btn-ghost btn-md">
            Security
          </Link>
        </div>
      </div>
      {others.length > 0 && (
        <section class="locked-elsewhere" aria-labelledby="locked-elsewhere-title">
          <h2 id="locked-elsewhere-title">Go to another workspace</h2>
          <ul role="list" class="workspace-links">
            {others.map((w) => (
              <li key={w.id}>
                <Link href={workspacePath(w.id)} class="workspace-link">
                  <WorkspaceTile workspace={w} />
                  <span class="workspace-link-text">
                    <span class="workspace-link-name">{workspaceName(w)}</span>
                    <span class="workspace-link-meta">
                      {w.kind === 'sub_account' ? 'Sub-account' : 'Workspace'} · {ROLE_LABEL[w.role] ?? w.role}
                    </span>
                  </span>
                  <IconArrowRight size={16} />
                </Link>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
