// `logstream worker`: runs the Temporal workers (workflows + control activities, and the
// streamers' queue with capped slots) and serves /metrics, until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { loadDependencies } from '../../activities/dependencies.js';
import { installWorkerRuntime, workerLog } from '../../activities/runtimeLogger.js';
import { createLogstreamWorkers } from '../../activities/worker.js';
import { metricsServerOptions, serveMetrics } from '../../clients/metrics/index.js';
import { context } from '../context.js';

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description(
      'run a Temporal worker: workflows and control activities on temporal.task_queue, streamer activities on ' +
        'temporal.streamer_task_queue (at most temporal.max_streamers_per_worker at once), /metrics on prometheus.metrics_host:metrics_port',
    )
    .option('--identity <name>', 'worker identity shown in the Temporal Web UI (default: pid@host)')
    .action(async (options: { identity?: string }) => {
      const { config } = context();
      installWorkerRuntime();
      const metricsServer = await serveMetrics(metricsServerOptions(config.prometheus));
      let workers: Awaited<ReturnType<typeof createLogstreamWorkers>>;
      try {
        workers = await createLogstreamWorkers({ deps: loadDependencies(config), identity: options.identity });
      } catch (error) {
        metricsServer.close();
        throw error;
      }
      const shutdown = (signal: NodeJS.Signals) => {
        workerLog().info({ signal }, 'shutting down: finishing running activities');
        workers.shutdown();
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      workerLog().info(
        {
          address: config.temporal.address,
          taskQueue: config.temporal.task_queue,
          streamerTaskQueue: config.temporal.streamer_task_queue,
          maxStreamers: config.temporal.max_streamers_per_worker,
          metrics: `${config.prometheus.metrics_tls_cert_file ? 'https' : 'http'}://${config.prometheus.metrics_host}:${config.prometheus.metrics_port}/metrics`,
        },
        'worker ready',
      );
      try {
        await workers.run();
      } finally {
        metricsServer.close();
      }
    });
}
