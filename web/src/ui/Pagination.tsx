import { Button } from './Button';
import { IconChevronLeft, IconChevronRight } from './icons';

/** "Showing 26–50 of 120" with Previous / Next, for cursor-paged lists. */
export function Pagination({
  from,
  to,
  total,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  noun = 'results',
  busy,
}: {
  from: number;
  to: number;
  total?: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  noun?: string;
  busy?: boolean;
}) {
  if (!hasPrevious && !hasNext && total !== undefined && total <= to - from + 1) {
    return (
      <nav class="pagination" aria-label="Pagination">
        <p class="pagination-summary">
          {total} {noun}
        </p>
      </nav>
    );
  }
  return (
    <nav class="pagination" aria-label="Pagination">
      <p class="pagination-summary" aria-live="polite">
        Showing <strong>{from}</strong>–<strong>{to}</strong>
        {total !== undefined && (
          <>
            {' '}
            of <strong>{total}</strong>
          </>
        )}{' '}
        {noun}
      </p>
      <div class="pagination-buttons">
        <Button size="sm" icon={<IconChevronLeft size={16} />} disabled={!hasPrevious || busy} onClick={onPrevious}>
          Previous
        </Button>
        <Button size="sm" disabled={!hasNext || busy} onClick={onNext}>
          Next
          <IconChevronRight size={16} />
        </Button>
      </div>
    </nav>
  );
}
