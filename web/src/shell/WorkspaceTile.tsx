import { initials } from '../lib/format';

/** A workspace's square mark: its initials on a colour picked from its id (stable across sessions). */
export function WorkspaceTile({
  workspace,
  size = 'md',
}: {
  workspace: { id: string; name: string; display_name?: string | null };
  size?: 'sm' | 'md' | 'lg';
}) {
  let h = 0;
  for (const ch of workspace.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const name = workspace.name;
  return (
    <span class={`ws-tile ws-tile-${size} ws-tile-c${h % 8}`} aria-hidden="true">
      {initials(name, name)}
    </span>
  );
}
