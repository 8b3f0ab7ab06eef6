// `logstream config show|path`: what configuration is in effect and where it came from.
import type { Command } from 'commander';
import { context } from '../context.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('show the configuration in effect');
  config
    .command('show')
    .description('print the validated configuration (defaults, file and LOGSTREAM_* variables merged) as JSON')
    .action(() => {
      const { config: values } = context();
      const redacted = {
        ...values,
        elasticsearch: { ...values.elasticsearch, password: values.elasticsearch.password ? '***' : undefined },
      };
      process.stdout.write(`${JSON.stringify(redacted, null, 2)}\n`);
    });
  config
    .command('path')
    .description('print the configuration file in use, or "(defaults)"')
    .action(() => {
      process.stdout.write(`${context().file ?? '(defaults)'}\n`);
    });
}
