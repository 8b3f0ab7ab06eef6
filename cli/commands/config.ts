// `logstream config show|path`: what configuration is in effect and where it came from.
import type { Command } from 'commander';
import { redactConfig } from '../../config/secrets.js';
import { context } from '../context.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('show the configuration in effect');
  config
    .command('show')
    .description(
      'print the validated configuration (defaults, file and LOGSTREAM_* variables merged) as JSON; ' +
        `secrets show as their \${env:…} or \${file:…} reference, or as ***; so do passwords in URLs`,
    )
    .action(() => {
      process.stdout.write(`${JSON.stringify(redactConfig(context().config), null, 2)}\n`);
    });
  config
    .command('path')
    .description('print the configuration file in use, or "(defaults)"')
    .action(() => {
      process.stdout.write(`${context().file ?? '(defaults)'}\n`);
    });
}
