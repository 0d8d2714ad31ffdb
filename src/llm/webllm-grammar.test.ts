// The JSON Schemas we hand to WebLLM's constrained decoding, compiled by the XGrammar build inside
// WebLLM 0.2.79 itself, the way its engine compiles them (GrammarCompiler.compileJSONSchema with its
// defaults): they must compile in its strict mode, accept the replies we expect, and refuse the ones the
// bank would reject anyway. XGrammar is bundled (not exported), so a patched copy of the bundle that
// exports it is loaded from a temporary file; test-only.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FACTS_JSON_SCHEMA, MANAGER_JSON_SCHEMA } from '../agents/schemas';

interface Matcher {
  _debugAcceptString(input: string): boolean;
  acceptToken(id: number): boolean;
}
interface XGrammar {
  TokenizerInfo: { createTokenizerInfo(vocab: string[], type: string, prependSpace: boolean, size?: number, stop?: number[]): Promise<unknown> };
  GrammarCompiler: { createGrammarCompiler(info: unknown): Promise<{ compileJSONSchema(schema: string): Promise<unknown> }> };
  GrammarMatcher: { createGrammarMatcher(compiled: unknown): Promise<Matcher> };
}

/** A raw vocabulary of single printable characters, then one stop token: enough to spell any reply. */
const VOCAB = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), '\n', '<stop>'];
const STOP = VOCAB.length - 1;
const BUNDLE_MARKER = 'var lib$1 = {exports: {}};';

let compile: (schema: object) => Promise<unknown>;
let xgrammar: XGrammar;

beforeAll(async () => {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@mlc-ai/web-llm');
  const version = (JSON.parse(readFileSync(join(entry, '../../package.json'), 'utf8')) as { version: string }).version;
  const source = readFileSync(entry, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  if (!source.includes(BUNDLE_MARKER)) throw new Error(`XGrammar binding not found in WebLLM ${version}; update this test`);
  const patched = join(tmpdir(), `memory-r1-webllm-${version}-xgrammar.mjs`);
  writeFileSync(patched, `import { createRequire } from 'node:module';\n${source}\nconst xgrammar = lib$1.exports;\nexport { xgrammar };\n`);
  // The emscripten loader locates itself through `location` when there is no document.
  (globalThis as { location?: unknown }).location ??= { href: pathToFileURL(patched).href, origin: 'file://' };
  const imported = (await import(/* @vite-ignore */ pathToFileURL(patched).href)) as { xgrammar: XGrammar };
  xgrammar = imported.xgrammar;
  const info = await xgrammar.TokenizerInfo.createTokenizerInfo(VOCAB, 'raw', false, VOCAB.length, [STOP]);
  const compiler = await xgrammar.GrammarCompiler.createGrammarCompiler(info);
  compile = (schema) => compiler.compileJSONSchema(JSON.stringify(schema));
}, 60_000);

/**
 * The reply `json` stands for is one the grammar allows, written the way WebLLM's default grammar makes
 * the model write it (indented by 2, as JSON.stringify does): every character accepted, then the stop.
 */
async function accepts(schema: object, json: string): Promise<boolean> {
  const matcher = await xgrammar.GrammarMatcher.createGrammarMatcher(await compile(schema));
  return matcher._debugAcceptString(JSON.stringify(JSON.parse(json), null, 2)) && matcher.acceptToken(STOP);
}

describe('our JSON Schemas in WebLLM 0.2.79 XGrammar', () => {
  it('facts: accepts the format, refuses other shapes', async () => {
    expect(await accepts(FACTS_JSON_SCHEMA, '{"facts": ["Caroline went to a support group on 7 May 2023"]}')).toBe(true);
    expect(await accepts(FACTS_JSON_SCHEMA, '{"facts": []}')).toBe(true);
    expect(await accepts(FACTS_JSON_SCHEMA, '{"facts": [1]}')).toBe(false);
    expect(await accepts(FACTS_JSON_SCHEMA, '{"facts": [], "extra": 1}')).toBe(false);
  });

  it('manager: accepts Mem0-style operations, refuses unknown events and missing fields', async () => {
    expect(await accepts(MANAGER_JSON_SCHEMA, '{"memory": [{"id": "0", "text": "Caroline likes green tea", "event": "UPDATE", "old_memory": "Caroline likes tea"}, {"id": "5", "text": "x", "event": "ADD"}]}')).toBe(true);
    expect(await accepts(MANAGER_JSON_SCHEMA, '{"memory": []}')).toBe(true);
    expect(await accepts(MANAGER_JSON_SCHEMA, '{"memory": [{"id": "0", "text": "x", "event": "MERGE"}]}')).toBe(false);
    expect(await accepts(MANAGER_JSON_SCHEMA, '{"memory": [{"id": "0", "event": "DELETE"}]}')).toBe(false);
  });
});
