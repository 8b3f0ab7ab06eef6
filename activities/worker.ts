// Builds the two Temporal workers of `logstream worker`: workflows and control activities
// on temporal.task_queue, and runStreamer alone on temporal.streamer_task_queue with capped slots.
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, bundleWorkflowCode, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { connectClient, connectWorker, closeClient } from '../clients/temporal/connection.js';
import { createActivities } from './index.js';
import type { ActivityDependencies } from './ports.js';
import { heartbeatIntervalMs } from './settings.js';
import { ConfigError } from '../config/errors.js';

/** The workflows' webpack entry; TypeScript sources with .js import suffixes bundle as they are. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export async function bundleWorkflows(): Promise<WorkflowBundleOption> {
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return { code: bundle.code };
}

export interface LogstreamWorkers {
  control: Worker;
  streamers: Worker;
  /** Runs both until shutdown() (or a fatal error), then closes the connections. */
  run(): Promise<void>;
  shutdown(): void;
}

export interface WorkerOptions {
  deps: ActivityDependencies;
  /** A bundle built once (tests); else the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
}

export async function createLogstreamWorkers(options: WorkerOptions): Promise<LogstreamWorkers> {
  const { config } = options.deps;
  const connection: NativeConnection = await connectWorker(config.temporal);
  let clientPromise: Promise<Client> | undefined;
  const getClient = () => (clientPromise ??= connectClient(config.temporal));
  const activities = createActivities(options.deps, getClient);
  const { runStreamer, ...controlActivities } = activities;
  // Cancellation reaches an activity with its next heartbeat; do not let the SDK hold them back for long.
  const heartbeatThrottleMs = heartbeatIntervalMs(config.temporal.heartbeat_timeout_seconds);
  const { deployment_name: deploymentName, build_id: buildId } = config.temporal;
  if ((deploymentName === undefined) !== (buildId === undefined))
    throw new ConfigError('temporal.deployment_name and temporal.build_id go together: set both for worker versioning, or neither', {
      key: deploymentName === undefined ? 'temporal.deployment_name' : 'temporal.build_id',
    });
  const common = {
    connection,
    // Long-running pipelines move to a new version at their next workflow task; their code keeps
    // older histories replayable with patched().
    ...(deploymentName && buildId
      ? {
          workerDeploymentOptions: {
            version: { deploymentName, buildId },
            useWorkerVersioning: true as const,
            defaultVersioningBehavior: 'AUTO_UPGRADE' as const,
          },
        }
      : {}),
    namespace: config.temporal.namespace,
    maxHeartbeatThrottleInterval: heartbeatThrottleMs,
    defaultHeartbeatThrottleInterval: heartbeatThrottleMs,
    shutdownGraceTime: '30 seconds',
    ...(options.identity ? { identity: options.identity } : {}),
  };
  const control = await Worker.create({
    ...common,
    taskQueue: config.temporal.task_queue,
    activities: controlActivities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  const streamers = await Worker.create({
    ...common,
    taskQueue: config.temporal.streamer_task_queue,
    activities: { runStreamer },
    maxConcurrentActivityTaskExecutions: config.temporal.max_streamers_per_worker,
  });
  return {
    control,
    streamers,
    async run() {
      try {
        // If one worker dies the process must not keep half a worker: stop the other one too.
        const stopBoth = (error: unknown) => {
          for (const worker of [control, streamers]) if (worker.getState() === 'RUNNING') worker.shutdown();
          throw error;
        };
        await Promise.all([control.run().catch(stopBoth), streamers.run().catch(stopBoth)]);
      } finally {
        await connection.close().catch(() => undefined);
        if (clientPromise) await clientPromise.then(closeClient, () => undefined);
      }
    },
    shutdown() {
      for (const worker of [control, streamers]) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`${message}\n`),
  error: (message: string) => process.stderr.write(`${message}\n`),
};
