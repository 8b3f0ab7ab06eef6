// `logstream stack up|down|status|logs`: the local services (Temporal, Kafka, MLflow, Prometheus,
// the search engines) as plain processes, installed once into stack.cache_dir.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../config/errors.js';
import { followFile, tailFile } from '../../infra/stack/logTail.js';
import {
  selectServices,
  serviceFiles,
  stackDown,
  stackInstall,
  stackPaths,
  stackStatus,
  stackUp,
  type StackContext,
} from '../../infra/stack/manager.js';
import { stackServices } from '../../infra/stack/services/index.js';
import { formatStatusTable } from '../../infra/stack/statusTable.js';
import { context } from '../context.js';

export function stackContext(): StackContext {
  const { config, explicitKeys } = context();
  return {
    config,
    explicitKeys,
    paths: stackPaths(config),
    services: stackServices,
    // Progress goes to stderr so `stack status --json` and scripts reading stdout stay clean.
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

function parseLineCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`-n expects a whole number of lines, got "${text}"`);
  return count;
}

/** --all means every service, optional ones included; it cannot be combined with names. */
function withOptional(services: string[], options: { all?: boolean }): string[] {
  if (!options.all) return services;
  if (services.length) throw new UsageError('give service names or --all, not both');
  return stackServices.map((service) => service.name);
}

export function registerStackCommands(program: Command): void {
  const names = stackServices.map((service) => service.name).join(', ');
  const stack = program
    .command('stack')
    .description(`the local service stack without Docker (${names}): installed once into stack.cache_dir, run as background processes`);

  stack
    .command('up')
    .description('install what is missing, start the services and wait until each is healthy (running ones are left alone)')
    .argument('[service...]', `services to start (default: all but the optional ones; known: ${names})`)
    .option('--all', 'also the optional services (elasticsearch, s3), as the tests need')
    .action(async (services: string[], options: { all?: boolean }) => {
      const started = Date.now();
      await stackUp(stackContext(), withOptional(services, options));
      process.stderr.write(`stack is up (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    });

  stack
    .command('install')
    .description('install services into stack.cache_dir without starting them (up does this when needed)')
    .argument('[service...]', `services to install (default: all but the optional ones; known: ${names})`)
    .option('--all', 'also the optional services (elasticsearch, s3)')
    .action(async (services: string[], options: { all?: boolean }) => {
      await stackInstall(stackContext(), withOptional(services, options));
    });

  stack
    .command('down')
    .description('stop the services this stack started (SIGTERM, then SIGKILL after a grace period)')
    .argument('[service...]', 'services to stop (default: all)')
    .action(async (services: string[]) => {
      await stackDown(stackContext(), services);
    });

  stack
    .command('status')
    .description('each service, its state, health, pid, version and URL')
    .argument('[service...]', 'services to show (default: all)')
    .option('--json', 'print JSON instead of a table')
    .action(async (services: string[], options: { json?: boolean }) => {
      const statuses = await stackStatus(stackContext(), services);
      process.stdout.write(options.json ? `${JSON.stringify(statuses, null, 2)}\n` : formatStatusTable(statuses));
    });

  stack
    .command('logs')
    .description('print the end of a service log; -f keeps following it')
    .argument('<service>', `one of ${names}`)
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('-n, --lines <count>', 'how many of the last lines to print', '50')
    .action(async (service: string, options: { follow?: boolean; lines: string }) => {
      const lineCount = parseLineCount(options.lines);
      const { config } = context();
      const [spec] = selectServices(stackServices, [service]);
      const { logFile } = serviceFiles(stackPaths(config), spec!.name);
      if (!existsSync(logFile) && !options.follow) {
        throw new UsageError(`${spec!.name} has no log yet (${logFile})`, `start it with: logstream stack up ${spec!.name}`);
      }
      const lines = tailFile(logFile, lineCount);
      if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
      if (!options.follow) return;
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      process.once('SIGTERM', () => controller.abort());
      await followFile(logFile, (text) => process.stdout.write(text), controller.signal);
    });
}
