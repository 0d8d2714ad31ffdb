// `npm run bench -- <suite>...`: runs benchmark suites and prints one JSON object per suite on stdout
// (progress goes to stderr). Browser suites run in Chromium on a Vite dev server; see scripts/bench/.
import { createServer } from 'vite';
import { chromium } from 'playwright-core';
import { EnvironmentError, testEnvironment } from './environment.mjs';

const browserSuites = {
  memory: { page: '/scripts/bench/memory.html', run: 'runMemoryBench' },
};
const suites = process.argv.slice(2);
if (suites.length === 0 || suites.some((name) => !(name in browserSuites))) {
  console.error(`usage: npm run bench -- <suite>...   suites: ${Object.keys(browserSuites).join(', ')}`);
  process.exit(2);
}

let env;
try {
  env = testEnvironment();
} catch (error) {
  if (error instanceof EnvironmentError) {
    console.error(`npm run bench: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const server = await createServer({ logLevel: 'warn', server: { port: 0, host: '127.0.0.1' } });
await server.listen();
const address = server.httpServer.address();
const browser = await chromium.launch({
  executablePath: env.MEMORY_R1_CHROMIUM,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
});
try {
  for (const name of suites) {
    const suite = browserSuites[name];
    const page = await browser.newPage();
    page.on('console', (message) => console.error(`[${name}] ${message.text()}`));
    await page.goto(`http://127.0.0.1:${address.port}${suite.page}`);
    await page.waitForFunction((fn) => typeof window[fn] === 'function', suite.run);
    const result = await page.evaluate((fn) => window[fn](), suite.run);
    console.log(JSON.stringify({ suite: name, browser: browser.version(), ...result }, null, 2));
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
