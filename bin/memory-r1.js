#!/usr/bin/env node
// The `memory-r1` command line. Runs the TypeScript sources through tsx, so no build step is needed.
// GPU commands need a Vulkan driver for Dawn; scripts/environment.mjs finds one and, where the dynamic
// loader must see it (LD_LIBRARY_PATH), this re-runs the command once with the right environment.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
if (!process.env.MEMORY_R1_GPU_ENV) {
  const { vulkanEnvironment } = await import('../scripts/environment.mjs');
  let gpuEnv = {};
  try {
    gpuEnv = vulkanEnvironment();
  } catch {
    // No driver: commands that need the GPU say so themselves; the others run as usual.
  }
  if (gpuEnv.LD_LIBRARY_PATH && gpuEnv.LD_LIBRARY_PATH !== process.env.LD_LIBRARY_PATH) {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, ...gpuEnv, MEMORY_R1_GPU_ENV: '1' },
    });
    // A signal to this wrapper (Ctrl-C, a supervisor's SIGTERM) stops the command too, e.g. `serve`.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
    const [code, signal] = await new Promise((resolve) => child.on('exit', (...result) => resolve(result)));
    process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 1) : 1));
  }
  Object.assign(process.env, gpuEnv, { MEMORY_R1_GPU_ENV: '1' });
}
register();
const { run } = await import(main);
process.exitCode = await run(process.argv.slice(2));
