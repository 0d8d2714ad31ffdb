// The life of a long-running CLI server: it serves until SIGINT or SIGTERM (Ctrl-C, a supervisor), then
// stops accepting, drops open connections (streams included) and resolves, so the caller can free the GPU.
import type { Server } from 'node:http';

export function serveUntilStopped(server: Server): Promise<void> {
  return new Promise<void>((stopped) => {
    const shutdown = () => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      server.close(() => stopped());
      server.closeAllConnections();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
}
