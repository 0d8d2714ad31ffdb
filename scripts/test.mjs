// `npm test`: type check, Node unit tests, Node GPU tests (Dawn), browser tests (Playwright + Chromium).
// Sets up what it needs first (a Chromium, a Vulkan driver) or stops with one line naming the command to run.
// Extra arguments go to both test runners as filters, e.g. `npm test -- memory`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { EnvironmentError, testEnvironment } from './environment.mjs';

const filters = process.argv.slice(2);

let env;
try {
  env = { ...process.env, ...testEnvironment() };
} catch (error) {
  if (error instanceof EnvironmentError) {
    console.error(`npm test: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
console.log(`[test] Chromium: ${env.MEMORY_R1_CHROMIUM}`);
console.log(`[test] Vulkan driver for Node: ${env.VK_ICD_FILENAMES ?? 'the system default'}`);

rmSync('test-results', { recursive: true, force: true });
mkdirSync('test-results', { recursive: true });

function step(name, command, args) {
  console.log(`\n[test] ${name}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  const { status } = spawnSync(command, args, { stdio: 'inherit', env });
  console.log(`[test] ${name}: ${status === 0 ? 'ok' : `failed (exit ${status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return status === 0;
}

function readJson(path) {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

const results = {
  typecheck: step('type check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']),
  node: step('Node unit and GPU tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile=test-results/vitest.json', ...filters]),
  browser: step('browser tests', 'npx', ['playwright', 'test', ...filters]),
};

// One closing line with the counts of both runners, so a reader (or CI) sees the whole run at a glance.
const vitest = readJson('test-results/vitest.json');
const playwright = readJson('test-results/playwright.json');
const passed = (vitest?.numPassedTests ?? 0) + (playwright?.stats?.expected ?? 0);
const failed = (vitest?.numFailedTests ?? 0) + (playwright?.stats?.unexpected ?? 0) + (playwright?.stats?.flaky ?? 0);
const stepsFailed = Object.entries(results).filter(([, ok]) => !ok).map(([name]) => name);
if (passed === 0) stepsFailed.push('no test ran');
console.log(`\n[test] node: ${vitest?.numPassedTests ?? 0}/${vitest?.numTotalTests ?? 0} passed; browser: ${playwright?.stats?.expected ?? 0} passed, ${playwright?.stats?.skipped ?? 0} skipped`);
if (stepsFailed.length) console.log(`[test] failed: ${stepsFailed.join(', ')}`);
console.log(`${passed} passed, ${failed + (stepsFailed.length && !failed ? 1 : 0)} failed`);
process.exit(stepsFailed.length ? 1 : 0);
