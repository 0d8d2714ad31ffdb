// A reply's Markdown (GitHub flavour: lists, tables, code), rendered by react-markdown into React
// elements: raw HTML in the text is never rendered (no rehype-raw), URLs pass react-markdown's safe-URL
// filter (no javascript: or data:), links open apart with rel="noopener noreferrer", and images are shown
// as their alt text: loading one would send a request a reply could use to carry memories away.
import Markdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  img: ({ alt }) => <span className="md-image">[image{alt ? `: ${alt}` : ''}]</span>,
};

export function MessageText({ text }: { text: string }) {
  return (
    <div className="md">
      <Markdown remarkPlugins={[remarkGfm]} components={components} skipHtml>
        {text}
      </Markdown>
    </div>
  );
}
