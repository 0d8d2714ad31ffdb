import { useCallback, useEffect, useState } from 'react';
import type { WebLlmApi } from '../engines/services';

export type CacheStatus = 'checking' | 'cached' | 'absent' | 'unknown';

/** Whether each model's weights are in the browser's cache; `refresh` re-asks after a load or delete. */
export function useCacheStatus(webllm: WebLlmApi, modelIds: readonly string[]) {
  const [status, setStatus] = useState<Record<string, CacheStatus>>({});
  const key = modelIds.join('\n');

  const refresh = useCallback(async () => {
    const ids = key ? key.split('\n') : [];
    setStatus((s) => Object.fromEntries(ids.map((id) => [id, s[id] ?? 'checking'])));
    const results = await Promise.all(ids.map((id) => webllm.isCached(id).then((yes): CacheStatus => (yes ? 'cached' : 'absent'), (): CacheStatus => 'unknown')));
    setStatus(Object.fromEntries(ids.map((id, i) => [id, results[i]!])));
  }, [webllm, key]);

  useEffect(() => void refresh(), [refresh]);
  return [status, refresh] as const;
}
