// `logstream start|stop|pause|resume|status|scale|reload-model|compact|health`: drive the
// pipeline and the maintenance/health workflows through Temporal; also registers `worker` and `schedules`.
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { UsageError } from '../../config/errors.js';
import { LogstreamError } from '../../config/errors.js';
import type { PipelineConfig } from '../../config/schema.js';
import { ensureWorkerPolling, queryRunningWorkflow, runningWorkflow, withTemporal } from '../../clients/temporal/control.js';
import { PipelineAlreadyRunningError } from '../../clients/temporal/errors.js';
import { DEFAULT_PIPELINE_WORKFLOW_ID } from '../../workflows/ids.js';
import { learningSummary, normaliseModelVersion } from '../../workflows/pipelineLogic.js';
import { pauseSignal, reloadModelSignal, resumeSignal, scaleSignal, statusQuery, stopSignal } from '../../workflows/signals.js';
import type { HealthReport, MaintenanceReport, PipelineInput, PipelineStatus, TrafficKind } from '../../workflows/types.js';
import { context } from '../context.js';
import { registerSchedulesCommands } from './schedules.js';
import { registerWorkerCommands } from './worker.js';
import { formatTable } from '../../text/format.js';

interface IdOption {
  id: string;
}

const ID_FLAGS = ['--id <workflowId>', 'pipeline workflow id', DEFAULT_PIPELINE_WORKFLOW_ID] as const;

/** Registers the orchestration commands: worker, pipeline control and schedules. */
export function registerOrchestrationCommands(program: Command): void {
  registerWorkerCommands(program);
  registerPipelineCommands(program);
  registerSchedulesCommands(program);
}

function registerPipelineCommands(program: Command): void {
  program
    .command('start')
    .description('start the pipeline workflow (streamers from Kafka into Delta Lake and the search engine)')
    .option(...ID_FLAGS)
    .option(
      '--streamers <n>',
      'streamer activities to run (default streaming.streamers, at most the partition count)',
      positiveInteger('--streamers'),
    )
    .option('--partitions <n>', 'partitions of the input topic (default kafka.partitions)', positiveInteger('--partitions'))
    .option('--topic <name>', 'input topic (default kafka.topic)')
    .option(
      '--run-minutes <n>',
      'bounded run of one streamer activity before it restarts (default streaming.run_minutes)',
      positiveInteger('--run-minutes'),
    )
    .option('--model <version>', 'model version to score with, or "champion"', 'champion')
    .option('--paused', 'start paused; `logstream resume` starts the streamers')
    .option(
      '--traffic <kind>',
      '"site" (a real site\'s logs: stored unscored until a model trained on them is promoted) or "generated" (the generator\'s: a model trained on generated logs may score it)',
      'site',
    )
    .action(
      async (
        options: IdOption & {
          streamers?: number;
          partitions?: number;
          topic?: string;
          runMinutes?: number;
          model: string;
          paused?: boolean;
          traffic: string;
        },
      ) => {
        const config = context().config;
        const input: PipelineInput = {
          streamers: options.streamers,
          partitions: options.partitions,
          topic: options.topic,
          runMinutes: options.runMinutes,
          modelVersion: modelVersion(options.model),
          paused: options.paused,
          traffic: trafficKind(options.traffic),
        };
        await withTemporal(config.temporal, async (client) => {
          await ensureWorkerPolling(client, config.temporal.namespace, config.temporal.task_queue);
          try {
            const handle = await client.workflow.start('pipelineWorkflow', {
              workflowId: options.id,
              taskQueue: config.temporal.task_queue,
              args: [dropUndefined(input)],
            });
            print(`started pipeline ${options.id} (run ${handle.firstExecutionRunId}) on task queue ${config.temporal.task_queue}`);
            print(`  follow it with \`logstream status\` or ${webUiUrl(config, options.id)}`);
          } catch (error) {
            if (error instanceof WorkflowExecutionAlreadyStartedError) throw new PipelineAlreadyRunningError(options.id);
            throw error;
          }
        });
      },
    );

  program
    .command('stop')
    .description('stop the pipeline: streamers finish their batch, commit and close, then the workflow ends')
    .option(...ID_FLAGS)
    .option('--no-wait', 'return once the stop is requested')
    .action(async (options: IdOption & { wait: boolean }) => {
      const config = context().config;
      await withTemporal(config.temporal, async (client) => {
        const handle = await runningWorkflow(client, options.id);
        await handle.signal(stopSignal);
        if (!options.wait) return print(`stop requested for ${options.id}`);
        const final = (await handle.result()) as PipelineStatus;
        print(`pipeline ${options.id} stopped after ${final.runsCompleted} finished streamer run(s)`);
      });
    });

  for (const [name, signal, description, done] of [
    ['pause', pauseSignal, 'pause the pipeline: streamers finish their batch and stop; the workflow keeps running', 'paused'],
    ['resume', resumeSignal, 'resume a paused pipeline', 'resumed'],
  ] as const) {
    program
      .command(name)
      .description(description)
      .option(...ID_FLAGS)
      .action(async (options: IdOption) => {
        const config = context().config;
        await withTemporal(config.temporal, async (client) => {
          const handle = await runningWorkflow(client, options.id);
          await handle.signal(signal);
          print(`${options.id} ${done} (see \`logstream status\`)`);
        });
      });
  }

  program
    .command('scale')
    .description('run N streamers (at most the partition count); extra ones stop cleanly, new ones join the consumer group')
    .argument('<n>', 'number of streamers', positiveInteger('N'))
    .option(...ID_FLAGS)
    .action(async (count: number, options: IdOption) => {
      const config = context().config;
      await withTemporal(config.temporal, async (client) => {
        const handle = await runningWorkflow(client, options.id);
        await handle.signal(scaleSignal, count);
        const status = await queryRunningWorkflow(client, options.id, statusQuery);
        print(
          `${options.id}: ${status.desiredStreamers} streamer(s) wanted${status.desiredStreamers < count ? ` (capped at ${status.partitions} partitions)` : ''}`,
        );
      });
    });

  program
    .command('reload-model')
    .description('make running streamers score with another model version (or "champion") from their next batch')
    .argument('<version>', 'registered model version number or "champion"')
    .option(...ID_FLAGS)
    .action(async (version: string, options: IdOption) => {
      const config = context().config;
      const selected = modelVersion(version);
      await withTemporal(config.temporal, async (client) => {
        const handle = await runningWorkflow(client, options.id);
        await handle.signal(reloadModelSignal, selected);
        print(`${options.id}: streamers switch to model ${selected} between batches`);
      });
    });

  program
    .command('status')
    .description('show the pipeline state and one row per streamer: partitions, offsets, lag, rows/s, last commit, model')
    .option(...ID_FLAGS)
    .option('--json', 'print the status as JSON')
    .action(async (options: IdOption & { json?: boolean }) => {
      const config = context().config;
      await withTemporal(config.temporal, async (client) => {
        const status = await queryRunningWorkflow(client, options.id, statusQuery);
        print(options.json ? JSON.stringify({ workflowId: options.id, ...status }, null, 2) : formatStatus(options.id, status, new Date()));
      });
    });

  program
    .command('compact')
    .description('run maintenance now: OPTIMIZE, checkpoint, VACUUM and log cleanup of every Delta table')
    .option('--skip-vacuum', 'compact and checkpoint only')
    .option('--json', 'print the report as JSON')
    .action(async (options: { skipVacuum?: boolean; json?: boolean }) => {
      const config = context().config;
      const report = await runOnce<MaintenanceReport>(config, 'maintenanceWorkflow', 'logstream-maintenance-manual', [
        { skipVacuum: options.skipVacuum ?? false },
      ]);
      print(options.json ? JSON.stringify(report, null, 2) : formatMaintenance(report));
    });

  program
    .command('health')
    .description('check Kafka, streamer heartbeats, consumer lag, Delta freshness, search engine and MLflow; exit 1 when down')
    .option(...ID_FLAGS)
    .option('--json', 'print the report as JSON')
    .action(async (options: IdOption & { json?: boolean }) => {
      const config = context().config;
      const report = await runOnce<HealthReport>(config, 'healthCheckWorkflow', 'logstream-health-manual', [
        { pipelineWorkflowId: options.id },
      ]);
      print(options.json ? JSON.stringify(report, null, 2) : formatHealth(report));
      if (report.overall === 'down') throw new LogstreamError('health check: at least one check failed');
    });
}

async function runOnce<T>(config: PipelineConfig, workflowType: string, idPrefix: string, args: unknown[]): Promise<T> {
  return withTemporal(config.temporal, async (client) => {
    await ensureWorkerPolling(client, config.temporal.namespace, config.temporal.task_queue);
    return (await client.workflow.execute(workflowType, {
      workflowId: `${idPrefix}-${randomUUID().slice(0, 8)}`,
      taskQueue: config.temporal.task_queue,
      args,
    })) as T;
  });
}

function trafficKind(text: string): TrafficKind {
  if (text === 'site' || text === 'generated') return text;
  throw new UsageError(`--traffic must be "site" or "generated", got "${text}"`);
}

function modelVersion(text: string): string {
  try {
    return normaliseModelVersion(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInteger(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < 1) throw new UsageError(`${flag} must be a positive whole number, got "${text}"`);
    return value;
  };
}

function webUiUrl(config: PipelineConfig, workflowId: string): string {
  const host = config.temporal.address.split(':')[0];
  return `http://${host}:${config.temporal.ui_port}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

// Human-readable tables for `status`, `health` and `compact` (pure, without a final newline).

export function formatStatus(workflowId: string, status: PipelineStatus, now: Date): string {
  const header =
    `pipeline ${workflowId}: ${status.state}, ${status.runningStreamers}/${status.desiredStreamers} streamer(s), ` +
    `topic ${status.topic ?? '?'} (${status.partitions ?? '?'} partitions), model ${status.desiredModelVersion}, ` +
    `${status.runsCompleted} run(s) finished, continued as new ${status.continuedAsNewCount}×` +
    (learningSummary(status.learning) ? `\n${learningSummary(status.learning)}: rows are stored and indexed unscored, no alerts` : '');
  if (status.streamers.length === 0) return `${header}\n(no streamer running)`;
  const rows = status.streamers.map((streamer) => {
    const partitions = streamer.partitions ?? [];
    const lag = partitions.some((partition) => partition.lag !== undefined)
      ? String(partitions.reduce((sum, partition) => sum + (partition.lag ?? 0), 0))
      : '-';
    return [
      String(streamer.slot),
      streamer.state,
      partitions.map((partition) => `${partition.partition}@${partition.committedOffset ?? '-'}`).join(',') || '-',
      lag,
      streamer.rowsTotal === undefined ? '-' : String(streamer.rowsTotal),
      streamer.rowsPerSecond === undefined ? '-' : streamer.rowsPerSecond.toFixed(1),
      streamer.lastCommitAt ? `${ago(streamer.lastCommitAt, now)} ago` : '-',
      streamer.modelVersion ?? '-',
      streamer.lastError ?? '',
    ];
  });
  return `${header}\n${formatTable(['streamer', 'state', 'partition@offset', 'lag', 'rows', 'rows/s', 'last commit', 'model', 'error'], rows).trimEnd()}`;
}

export function formatHealth(report: HealthReport): string {
  const rows = report.checks.map((check) => [check.name, check.status, check.detail]);
  return `health: ${report.overall} (${report.checkedAt})\n${formatTable(['check', 'status', 'detail'], rows).trimEnd()}`;
}

export function formatMaintenance(report: MaintenanceReport): string {
  if (report.tables.length === 0) return `no Delta table under ${report.deltaRoot}`;
  const rows = report.tables.map((table) => [
    table.table,
    String(table.filesCompacted),
    String(table.filesRemoved),
    table.checkpointVersion === undefined ? '-' : String(table.checkpointVersion),
    String(table.logFilesRemoved),
  ]);
  return formatTable(['table', 'files compacted', 'files vacuumed', 'checkpoint', 'log files removed'], rows).trimEnd();
}

function ago(isoTime: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(isoTime)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}
