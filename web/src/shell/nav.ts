// The Settings navigation is data: a list of {id, title, path}. The workspace's sections come from
// GET /api/v1/workspaces/{id}/sections (their `id` is the section id of DESIGN.md §1; see
// buildNav in Shell.tsx); the account pages below are there for every signed-in user.

export interface NavItem {
  id: string;
  title: string;
  path: string;
  /** Items with the same group label are listed together under it, in order. */
  group?: string;
}

export const ACCOUNT_GROUP = 'Your account';

export const accountNav: NavItem[] = [
  { id: 'profile', title: 'Profile', path: '/settings/profile', group: ACCOUNT_GROUP },
  { id: 'security', title: 'Security', path: '/settings/security', group: ACCOUNT_GROUP },
];

/** The nav item a path belongs to (the longest matching path prefix). */
export function activeItem(items: NavItem[], path: string): NavItem | undefined {
  return items
    .filter((i) => path === i.path || path.startsWith(i.path + '/'))
    .sort((a, b) => b.path.length - a.path.length)[0];
}

export function groupNav(items: NavItem[]): { label?: string; items: NavItem[] }[] {
  const groups: { label?: string; items: NavItem[] }[] = [];
  for (const item of items) {
    const last = groups[groups.length - 1];
    if (last && last.label === item.group) last.items.push(item);
    else groups.push({ label: item.group, items: [item] });
  }
  return groups;
}
