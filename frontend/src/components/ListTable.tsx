import type { ReactNode } from 'react';
import { Notice } from './Notice';

export interface Column<T> {
  /** The header; a column without visible text still names itself for screen readers. */
  header: string;
  hideHeader?: boolean;
  className?: string;
  cell: (item: T) => ReactNode;
}

interface ListTableProps<T> {
  /** `null` while the first page loads. */
  items: T[] | null;
  error: string | null;
  columns: Column<T>[];
  rowKey: (item: T) => string;
  empty: ReactNode;
}

/** A list page's body: its error, a loading line, an empty state, or the table. */
export function ListTable<T>({ items, error, columns, rowKey, empty }: ListTableProps<T>) {
  return (
    <>
      {error && <Notice>{error}</Notice>}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items && items.length === 0 && <div className="empty">{empty}</div>}
      {items && items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              {columns.map((column) => (
                <th scope="col" key={column.header}>
                  {column.hideHeader ? <span className="sr-only">{column.header}</span> : column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={rowKey(item)}>
                {columns.map((column) => (
                  <td key={column.header} className={column.className}>
                    {column.cell(item)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
