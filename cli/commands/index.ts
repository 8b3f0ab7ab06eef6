// Every command group of `logstream`, loaded lazily: a group's module (and the heavy libraries it
// pulls in, such as TensorFlow.js or the Temporal SDK) is imported only when one of its commands
// runs. `logstream --help` and unknown commands load every group. test/unit/cli-commands.test.ts
// checks that each group's `commands` list matches what its module registers.
import type { Command } from 'commander';

type Register = (program: Command) => void;

export interface CommandGroup {
  /** Top-level command names the module registers. */
  commands: readonly string[];
  load(): Promise<Register>;
}

export const commandGroups: readonly CommandGroup[] = [
  { commands: ['config'], load: async () => (await import('./config.js')).registerConfigCommands },
  { commands: ['stack'], load: async () => (await import('./stack.js')).registerStackCommands },
  { commands: ['generate', 'replay', 'stream'], load: async () => (await import('./stream.js')).registerStreamingCommands },
  { commands: ['table'], load: async () => (await import('./table.js')).registerTableCommands },
  { commands: ['analytics', 'anomalies'], load: async () => (await import('./analytics.js')).registerAnalyticsCommands },
  { commands: ['train', 'evaluate'], load: async () => (await import('./train.js')).registerModelCommands },
  { commands: ['up'], load: async () => (await import('./up.js')).registerUpCommand },
  {
    commands: ['worker', 'start', 'stop', 'pause', 'resume', 'scale', 'reload-model', 'status', 'compact', 'health', 'schedules'],
    load: async () => (await import('./pipeline.js')).registerOrchestrationCommands,
  },
];

/** Options of the root command that take a value, so their value is not mistaken for a command. */
const ROOT_OPTIONS_WITH_VALUE = new Set(['-c', '--config']);

/** The command name in argv (after node and the script), or undefined for `logstream --help` and the like. */
export function commandName(args: readonly string[]): string | undefined {
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (ROOT_OPTIONS_WITH_VALUE.has(arg)) index += 1;
    else if (!arg.startsWith('-')) return arg === 'help' ? args[index + 1] : arg;
  }
  return undefined;
}

/** Registers the groups the command line needs: the one holding its command, else all of them. */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const name = commandName(args);
  // `logstream --version` needs no command: loading them all (for the help text) takes seconds.
  if (name === undefined && (args.includes('--version') || args.includes('-V'))) return;
  const needed = commandGroups.filter((group) => name !== undefined && group.commands.includes(name));
  for (const group of needed.length ? needed : commandGroups) (await group.load())(program);
}
