// The `logstream` command: parses arguments, validates configuration, maps errors to exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LogstreamError } from '../config/errors.js';
import { registerCommands } from './commands/index.js';
import { prepareContext, type GlobalOptions } from './context.js';

/** The program with the command groups `args` (argv without node and script) needs. */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('logstream')
    .description('LogStream Lakehouse: web-access logs from Kafka into Delta Lake and a search engine, scored for anomalies')
    .version(packageVersion(), '-V, --version', 'print the version of logstream')
    .option('-c, --config <file>', 'configuration file (default: $LOGSTREAM_CONFIG, else ./pipeline_config.json when present)')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.hook('preAction', (_program, actionCommand) => {
    prepareContext(actionCommand);
  });
  await registerCommands(program, args);
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

/** The version in package.json, read once when the program is built. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

export async function main(argv: string[]): Promise<number> {
  exitQuietlyWhenOutputCloses();
  let program: Command | undefined;
  try {
    program = await buildProgram(argv.slice(2));
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return reportError(error, program?.opts<GlobalOptions>().debug ?? argv.includes('--debug'));
  }
}

let outputGuarded = false;

/**
 * `logstream analytics | head -5`: once the reader of stdout or stderr is gone, every later write
 * fails with EPIPE, which Node raises as an unhandled 'error' event with a stack trace. Nobody is
 * left to read anything, so the command stops at once with status 0, as Unix tools do.
 */
function exitQuietlyWhenOutputCloses(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}

function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Commander already printed the message (or the help text).
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof LogstreamError) {
    process.stderr.write(`logstream: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  ${error.hint}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`logstream: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('  (run again with --debug for the stack trace)\n');
  return 1;
}
