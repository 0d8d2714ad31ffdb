import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { searchForWorkspaceRoot } from 'vite';
import { defineConfig } from 'vitest/config';

// MLC's prebuilt WebLLM model libraries that run offline (never copied into the project); the engine
// benchmark serves them to WebLLM from here.
const WEBLLM_LIBS = resolve(import.meta.dirname, process.env.MEMORY_R1_WEBLLM_LIBS ?? '../shared/webllm');

// One config for the app (Vite), the Node tests (Vitest) and the dev server the browser tests use.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  // Scan every page up front (the app, browser-test harnesses, benchmark pages) so the dev server
  // never discovers a dependency mid-test and reloads the page.
  optimizeDeps: { entries: ['index.html', 'e2e/**/*.html', 'scripts/**/*.html'] },
  // test-models/ holds the large random models the WebLLM browser tests generate: never watched.
  server: { host: '127.0.0.1', watch: { ignored: ['**/test-models/**'] }, fs: { allow: [searchForWorkspaceRoot(process.cwd()), WEBLLM_LIBS] } },
  define: { 'import.meta.env.MEMORY_R1_WEBLLM_LIBS': JSON.stringify(WEBLLM_LIBS) },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['src/**/*.gpu.test.ts'],
          // Generous: CI has 2 cores, and some unit tests run the CLI in a child process.
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // WebGPU through Dawn's native addon: one process, one file at a time (2 cores, one device).
          name: 'gpu',
          environment: 'node',
          include: ['src/**/*.gpu.test.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 120_000,
        },
      },
    ],
  },
});
