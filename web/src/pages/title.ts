import { useEffect } from 'preact/hooks';

/** Sets document.title to "<page> · Atrium". */
export function useTitle(page: string): void {
  useEffect(() => {
    document.title = page ? `${page} · Atrium` : 'Atrium';
  }, [page]);
}
