// What every `memory-r1` command is: a name, a one-line summary, its usage text, and a run function.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  name: string;
  summary: string;
  /** Full help shown by `memory-r1 <name> --help`. */
  usage: string;
  /** Returns the exit code. Throw UsageError for bad arguments (exit 2), any other Error for a failure (exit 1). */
  run(argv: string[]): Promise<number>;
}

/** Bad arguments: the message is printed with a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs with errors turned into UsageError and `--help` recognised by the caller. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function requireOption(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing ${flag}`);
  return value;
}

export function numberOption(value: string | undefined, flag: string, fallback: number, { integer = false, min = -Infinity } = {}): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, got "${value}"`);
  }
  return parsed;
}

/** Progress on stderr: a redrawn bar on a terminal, a line every so often otherwise (logs, CI). */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastLine = 0;
  return (done: number, total: number, detail = '') => {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const text = `${label} ${done}/${total} ${(fraction * 100).toFixed(0)}%${detail ? ` ${detail}` : ''}`;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K${done >= total ? '\n' : ''}`);
    } else if (done >= total || Date.now() - lastLine > 2000) {
      lastLine = Date.now();
      stream.write(`${text}\n`);
    }
  };
}
