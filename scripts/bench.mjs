// `npm run bench -- <suite>...`: runs benchmark suites and prints one JSON object per suite on stdout
// (progress goes to stderr). A suite has a Node part (run with tsx under the GPU environment), a
// browser part (a page on a Vite dev server, driven in Chromium), or both; see scripts/bench/.
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { EnvironmentError, testEnvironment } from './environment.mjs';

const SUITES = {
  memory: { browser: { page: '/scripts/bench/memory.html', run: 'runMemoryBench' } },
  engine: { node: 'scripts/bench/engine-node.ts', browser: { page: '/scripts/bench/engine.html', run: 'runEngineBench' } },
  train: { node: 'scripts/bench/train-node.ts' },
  locomo: { node: 'scripts/bench/locomo-node.ts' },
  eval: { node: 'scripts/bench/eval-node.ts' },
  learn: { node: 'scripts/bench/learn-node.ts' },
  drills: { node: 'scripts/bench/drills-node.ts' },
  chat: { node: 'scripts/bench/chat-node.ts' },
  retrieval: { node: 'scripts/bench/retrieval-node.ts' },
};

const suites = process.argv.slice(2);
if (suites.length === 0 || suites.some((name) => !(name in SUITES))) {
  console.error(`usage: npm run bench -- <suite>...   suites: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}

let env;
try {
  env = { ...process.env, ...testEnvironment() };
} catch (error) {
  if (error instanceof EnvironmentError) {
    console.error(`npm run bench: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

function runNode(script) {
  console.error(`[bench] node: ${script}`);
  const { status, stdout } = spawnSync('npx', ['tsx', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (status !== 0) throw new Error(`${script} failed (exit ${status})`);
  return JSON.parse(stdout.trim().split('\n').pop());
}

async function runBrowser({ page: path, run }) {
  // No HMR: an edit to a source file the page imports must not reload it mid-run.
  const server = await createServer({ logLevel: 'warn', server: { port: 0, host: '127.0.0.1', hmr: false } });
  await server.listen();
  const browser = await chromium.launch({
    executablePath: env.MEMORY_R1_CHROMIUM,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
  try {
    const page = await browser.newPage();
    page.on('console', (message) => console.error(`[browser] ${message.text()}`));
    page.on('crash', () => console.error('[bench] the page crashed (out of memory?)'));
    await page.goto(`http://127.0.0.1:${server.httpServer.address().port}${path}`);
    await page.waitForFunction((fn) => typeof window[fn] === 'function', run, { timeout: 120_000 });
    return { browser: `chromium ${browser.version()}`, ...(await page.evaluate((fn) => window[fn](), run)) };
  } finally {
    await browser.close();
    await server.close();
  }
}

for (const name of suites) {
  const suite = SUITES[name];
  const result = { suite: name };
  // The Node part runs first: it also writes any model files the browser part loads.
  if (suite.node) result.node = runNode(suite.node);
  if (suite.browser) result.browser = await runBrowser(suite.browser);
  console.log(JSON.stringify(result, null, 2));
}
