// `memory-r1 <command> [options]`: dispatches to the commands in ./commands, each with its own --help.
import type { Command } from './command';
import { UsageError } from './command';
import { commands } from './commands';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'memory-r1: train, evaluate and run Memory-R1 agents on WebGPU, headless.',
    '',
    'usage: memory-r1 <command> [options]     memory-r1 <command> --help',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`memory-r1: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`memory-r1 ${name}: ${error.message}\nSee: memory-r1 ${name} --help`);
      return 2;
    }
    console.error(`memory-r1 ${name}: ${(error as Error).message}`);
    if (process.env.MEMORY_R1_DEBUG) console.error(error);
    return 1;
  }
}
