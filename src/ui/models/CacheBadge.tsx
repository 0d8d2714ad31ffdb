import type { CacheStatus } from './useCacheStatus';

const TEXT: Record<CacheStatus, string> = { checking: 'checking cache…', cached: 'downloaded', absent: 'not downloaded', unknown: 'cache unknown' };

/** Cache status of one model, with a delete button when it is downloaded. */
export function CacheBadge({ status, label, onDelete, disabled }: { status: CacheStatus | undefined; label: string; onDelete: () => void; disabled: boolean }) {
  const s = status ?? 'checking';
  return (
    <span className="cache">
      <span className={`badge cache-${s}`}>{TEXT[s]}</span>
      {s === 'cached' && (
        <button type="button" className="small-button" onClick={onDelete} disabled={disabled} aria-label={`Delete ${label} from the cache`}>
          Delete from cache
        </button>
      )}
    </span>
  );
}
