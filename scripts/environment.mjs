// Finds (and where it can, installs) what the GPU and browser tests need: a Chromium for Playwright
// and a Vulkan driver for Dawn in Node. Shared by `npm test` and `npm run bench`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const DEBIAN_CHROMIUM_DIR = '/usr/lib/chromium';

/** Thrown when something is missing that we could not set up; the message is one line naming the fix. */
export class EnvironmentError extends Error {}

function playwrightChromium() {
  try {
    const { chromium } = require('playwright-core');
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function findChromium() {
  const explicit = process.env.MEMORY_R1_CHROMIUM ?? process.env.CHROMIUM_PATH;
  if (explicit) {
    if (!existsSync(explicit)) throw new EnvironmentError(`MEMORY_R1_CHROMIUM=${explicit} does not exist; point it at a Chromium binary or unset it.`);
    return explicit;
  }
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(path)) return path;
  return playwrightChromium();
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(command, args) {
  console.error(`[environment] ${command} ${args.join(' ')}`);
  return spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/** Returns a Chromium path, installing one if this machine allows it; otherwise throws one line naming the command. */
export function ensureChromium() {
  const found = findChromium();
  if (found) return found;
  if (existsSync('/usr/bin/apt-get')) {
    if (!isRoot()) throw new EnvironmentError('No Chromium found: run `sudo apt-get install -y chromium` (or set MEMORY_R1_CHROMIUM to a Chromium binary).');
    if (run('apt-get', ['update']) && run('apt-get', ['install', '-y', 'chromium'])) {
      const installed = findChromium();
      if (installed) return installed;
    }
    throw new EnvironmentError('Installing Chromium failed: run `apt-get install -y chromium` and try again.');
  }
  if (run('npx', ['playwright', 'install', 'chromium'])) {
    const installed = findChromium();
    if (installed) return installed;
  }
  throw new EnvironmentError('No Chromium found: run `npx playwright install chromium` (or set MEMORY_R1_CHROMIUM to a Chromium binary).');
}

function systemHasLibvulkan() {
  try {
    return execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return false;
  }
}

function systemIcds() {
  const icds = [];
  for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.endsWith('.json')) icds.push(join(dir, name));
  }
  return icds;
}

/**
 * Environment variables that let Dawn (the `webgpu` package) find a Vulkan driver: the caller's
 * VK_ICD_FILENAMES if set, else the system's drivers (a GPU's, or Mesa's lavapipe), else the
 * SwiftShader driver that Debian's Chromium ships. Throws when there is none.
 */
export function vulkanEnvironment() {
  const env = {};
  if (!process.env.XDG_RUNTIME_DIR) {
    env.XDG_RUNTIME_DIR = join(tmpdir(), 'memory-r1-xdg');
    mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  }
  const swiftshader = join(DEBIAN_CHROMIUM_DIR, 'vk_swiftshader_icd.json');
  const explicit = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  const hasSystemDriver = systemIcds().length > 0 && systemHasLibvulkan();
  if (explicit) {
    env.VK_ICD_FILENAMES = explicit;
  } else if (!hasSystemDriver) {
    if (!existsSync(swiftshader)) {
      throw new EnvironmentError('No Vulkan driver for WebGPU in Node: run `apt-get install -y chromium` (it ships SwiftShader, found by itself), or install a GPU\'s Vulkan driver or Mesa 25\'s lavapipe.');
    }
    env.VK_ICD_FILENAMES = swiftshader;
  }
  // Dawn dlopens libvulkan.so.1; Debian's Chromium carries one when the system has none.
  if (!systemHasLibvulkan() && existsSync(join(DEBIAN_CHROMIUM_DIR, 'libvulkan.so.1'))) {
    env.LD_LIBRARY_PATH = [DEBIAN_CHROMIUM_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return env;
}

/** Everything the Node GPU tests, the browser tests and the benchmarks need, as environment variables. */
export function testEnvironment() {
  // Chromium first: on Debian its package also brings the SwiftShader Vulkan driver that Node may need.
  const chromium = ensureChromium();
  return { ...vulkanEnvironment(), MEMORY_R1_CHROMIUM: chromium };
}
