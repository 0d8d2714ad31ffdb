import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// One config for the app (Vite), the Node tests (Vitest) and the dev server the browser tests use.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  // Scan every page up front (the app, browser-test harnesses, benchmark pages) so the dev server
  // never discovers a dependency mid-test and reloads the page.
  optimizeDeps: { entries: ['index.html', 'e2e/**/*.html', 'scripts/**/*.html'] },
  server: { host: '127.0.0.1' },
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
