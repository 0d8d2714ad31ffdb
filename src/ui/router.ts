// Pages are addressed by the URL hash (#/chat, #/memory, ...): no server routes needed for a static site.
// A page may take one argument after its name (#/chat/<conversation id>).
import { useEffect, useState } from 'react';

export const PAGES = ['chat', 'memory', 'demo', 'models', 'train', 'evaluate', 'settings'] as const;
export type Page = (typeof PAGES)[number];

const parts = () => window.location.hash.replace(/^#\/?/, '').split('?')[0]!.split('/');

function current(): Page {
  const name = parts()[0];
  return (PAGES as readonly string[]).includes(name ?? '') ? (name as Page) : 'chat';
}

/** The argument of the current route (#/chat/<id> → id), if any. */
export function routeArgument(): string | undefined {
  const argument = parts()[1];
  return argument ? decodeURIComponent(argument) : undefined;
}

/** The address of a conversation on the Chat page. */
export const chatHref = (conversationId: string) => `#/chat/${encodeURIComponent(conversationId)}`;

export function useRoute(): Page {
  const [page, setPage] = useState<Page>(current);
  useEffect(() => {
    const update = () => setPage(current());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return page;
}
