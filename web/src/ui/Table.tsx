import type { ComponentChildren } from 'preact';
import { IconArrowDown, IconArrowUp, IconChevronsUpDown } from './icons';

export interface Column<T> {
  key: string;
  header: ComponentChildren;
  /** The header as plain text, used as the cell label when the table stacks into cards on a phone. */
  label?: string;
  render: (row: T) => ComponentChildren;
  /** Header read by screen readers only (e.g. an actions column). */
  hideHeader?: boolean;
  /** The cell that heads each card on a phone (no label shown). */
  primary?: boolean;
  align?: 'start' | 'end';
  class?: string;
  /** Sort keys for this column (e.g. {asc: 'name', desc: '-name'}): the header becomes a button. */
  sort?: { asc: string; desc: string };
}

/**
 * A data table. On narrow screens (≤ 640px) each row stacks into a card: the primary cell on top,
 * other cells as label/value pairs, the actions cell last.
 */
export function Table<T>({
  caption,
  columns,
  rows,
  rowKey,
  rowClass,
  sort,
  onSort,
}: {
  /** Describes the table for assistive technology (rendered visually hidden). */
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  rowClass?: (row: T) => string | undefined;
  /** The current sort key (one of the columns' sort keys). */
  sort?: string;
  onSort?: (key: string) => void;
}) {
  const header = (c: Column<T>) => {
    if (c.hideHeader) return <span class="visually-hidden">{c.header}</span>;
    if (!c.sort || !onSort) return c.header;
    const dir = sort === c.sort.asc ? 'asc' : sort === c.sort.desc ? 'desc' : null;
    const next = dir === 'asc' ? c.sort.desc : c.sort.asc;
    return (
      <button type="button" class={dir ? 'th-sort is-sorted' : 'th-sort'} onClick={() => onSort(next)}>
        {c.header}
        {dir === 'asc' ? <IconArrowUp size={12} /> : dir === 'desc' ? <IconArrowDown size={12} /> : <IconChevronsUpDown size={12} />}
      </button>
    );
  };
  const ariaSort = (c: Column<T>) =>
    !c.sort ? undefined : sort === c.sort.asc ? 'ascending' : sort === c.sort.desc ? 'descending' : 'none';
  return (
    <div class="table-wrap">
      <table class="table">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                aria-sort={ariaSort(c)}
                class={[c.align === 'end' && 'align-end', c.class].filter(Boolean).join(' ') || undefined}
              >
                {header(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} class={rowClass?.(row)}>
              {columns.map((c) => (
                <td
                  key={c.key}
                  data-label={c.primary || c.hideHeader ? undefined : (c.label ?? (typeof c.header === 'string' ? c.header : ''))}
                  class={
                    [c.primary && 'cell-primary', c.hideHeader && 'cell-actions', c.align === 'end' && 'align-end', c.class]
                      .filter(Boolean)
                      .join(' ') || undefined
                  }
                >
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
