// Pages are addressed by the URL hash (#/chat, #/memory, ...): no server routes needed for a static site.
import { useEffect, useState } from 'react';

export const PAGES = ['chat', 'memory', 'demo', 'models', 'train', 'evaluate', 'settings'] as const;
export type Page = (typeof PAGES)[number];

function current(): Page {
  const name = window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (PAGES as readonly string[]).includes(name ?? '') ? (name as Page) : 'chat';
}

export function useRoute(): Page {
  const [page, setPage] = useState<Page>(current);
  useEffect(() => {
    const update = () => setPage(current());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return page;
}
