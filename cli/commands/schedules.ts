// `logstream schedules apply|list|pause|resume|delete`: the Temporal Schedules of training, health checks and maintenance.
import type { Command } from 'commander';
import { withTemporal } from '../../clients/temporal/control.js';
import {
  applySchedules,
  deleteSchedules,
  listSchedules,
  pauseSchedules,
  resumeSchedules,
  scheduleDefinitions,
  SCHEDULE_PREFIX,
} from '../../clients/temporal/schedules.js';
import { context } from '../context.js';
import { formatTable } from '../../text/format.js';

export function registerSchedulesCommands(program: Command): void {
  const schedules = program.command('schedules').description('Temporal Schedules for training, health checks and maintenance');
  schedules
    .command('apply')
    .description(
      'create or update the schedules from ml.retrain_interval_hours, schedules.health_check_interval_minutes, schedules.maintenance_interval_hours',
    )
    .option('--json', 'print the outcome as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = context().config;
      const definitions = scheduleDefinitions(config);
      const results = await withTemporal(config.temporal, (client) => applySchedules(client, definitions));
      if (options.json) return print(JSON.stringify(results, null, 2));
      print(
        formatTable(
          ['schedule', 'workflow', 'every', 'outcome'],
          results.map((result, index) => [
            result.scheduleId,
            definitions[index]!.workflowType,
            duration(definitions[index]!.intervalMs),
            result.outcome,
          ]),
        ),
      );
    });
  schedules
    .command('list')
    .description(`list the schedules whose id starts with ${SCHEDULE_PREFIX}`)
    .option('--json', 'print the schedules as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = context().config;
      const summaries = await withTemporal(config.temporal, (client) => listSchedules(client));
      if (options.json) return print(JSON.stringify(summaries, null, 2));
      if (summaries.length === 0) return print('no logstream schedule; create them with `logstream schedules apply`');
      print(
        formatTable(
          ['schedule', 'workflow', 'every', 'state', 'runs', 'last run', 'next run'],
          summaries.map((summary) => [
            summary.scheduleId,
            summary.workflowType,
            summary.intervalMs === undefined ? '-' : duration(summary.intervalMs),
            summary.paused ? 'paused' : 'active',
            String(summary.actionsTaken),
            summary.lastRunAt ?? '-',
            summary.nextRunAt ?? '-',
          ]),
        ),
      );
    });
  for (const [name, verb] of [
    ['pause', 'paused'],
    ['resume', 'resumed'],
  ] as const) {
    schedules
      .command(name)
      .description(
        `${name} the logstream schedules (all three, or the ids given): a ${verb === 'paused' ? 'paused schedule starts no run' : 'resumed schedule starts runs again'}`,
      )
      .argument('[scheduleIds...]', 'schedule ids (default: the ones `apply` creates)')
      .action(async (scheduleIds: string[]) => {
        const config = context().config;
        const ids = scheduleIds.length ? scheduleIds : scheduleDefinitions(config).map((definition) => definition.scheduleId);
        const note = `${verb} with \`logstream schedules ${name}\``;
        const changed = await withTemporal(config.temporal, (client) =>
          name === 'pause' ? pauseSchedules(client, ids, note) : resumeSchedules(client, ids, note),
        );
        print(changed.length ? `${verb} ${changed.join(', ')}` : `nothing to ${name}`);
      });
  }
  schedules
    .command('delete')
    .description('delete the logstream schedules (all three, or the ids given)')
    .argument('[scheduleIds...]', 'schedule ids (default: the ones `apply` creates)')
    .action(async (scheduleIds: string[]) => {
      const config = context().config;
      const ids = scheduleIds.length ? scheduleIds : scheduleDefinitions(config).map((definition) => definition.scheduleId);
      const deleted = await withTemporal(config.temporal, (client) => deleteSchedules(client, ids));
      print(deleted.length ? `deleted ${deleted.join(', ')}` : 'nothing to delete');
    });
}

function duration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function print(text: string): void {
  process.stdout.write(`${text.trimEnd()}\n`);
}
