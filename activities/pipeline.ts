// Activities of pipelineWorkflow: settings, resource setup and the long-running streamer.
// runStreamer heartbeats from its own timer (independent of batch work), reports progress
// to the workflow, polls the desired model, and stops cooperatively on cancellation.
import { CancelledFailure, Context, activityInfo } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { desiredModelQuery, streamerProgressSignal } from '../workflows/signals.js';
import type { PipelineActivities } from '../workflows/interfaces.js';
import type {
  LearningProgress,
  PipelineInput,
  PipelineSettings,
  StreamerProgress,
  StreamerRunInput,
  StreamerRunResult,
} from '../workflows/types.js';
import type { ActivityDependencies, StreamerProgressUpdate } from './ports.js';
import { heartbeatIntervalMs, resolveSettings } from './settings.js';

export type ClientProvider = () => Promise<Client>;

/** How often a running streamer asks its workflow which model it should score with. */
const MODEL_POLL_INTERVAL_MS = 3_000;
const WORKFLOW_CALL_DEADLINE_MS = 10_000;

export function createPipelineActivities(deps: ActivityDependencies, getClient: ClientProvider): PipelineActivities {
  return {
    async resolvePipelineSettings(input: PipelineInput): Promise<PipelineSettings> {
      try {
        return resolveSettings(input ?? {}, deps.config);
      } catch (error) {
        throw ApplicationFailure.nonRetryable((error as Error).message, 'ConfigError');
      }
    },

    async ensurePipelineResources(settings: PipelineSettings): Promise<void> {
      await deps.resources.ensureResources(deps.config, settings);
    },

    async learningProgress(settings: PipelineSettings): Promise<LearningProgress> {
      return deps.learning.progress(deps.config, settings);
    },

    async runStreamer(input: StreamerRunInput): Promise<StreamerRunResult> {
      const context = Context.current();
      const info = activityInfo();
      let desiredModelVersion = input.modelVersion;
      let latest: StreamerProgressUpdate = { partitions: [], rowsTotal: 0, batches: 0, rowsPerSecond: 0 };
      const progressOf = (): StreamerProgress => ({
        ...latest,
        slot: input.slot,
        runId: input.runId,
        reportedAt: new Date().toISOString(),
      });

      // Heartbeats come from a timer, not from the batch loop, so a long batch cannot starve them;
      // they are also how this activity learns it was cancelled.
      const heartbeatTimer = setInterval(
        () => context.heartbeat(progressOf()),
        heartbeatIntervalMs(input.settings.heartbeatTimeoutSeconds),
      );
      // Progress goes to the workflow as a signal (it lands in history, so not too often); the desired
      // model is a query (no history), asked more often so a reloadModel takes effect within seconds.
      // Each call has a deadline: a query waits for a workflow task, so it can hang while the
      // workflow's worker is away, and a call still in flight when the worker closes its connection
      // is retried by the gRPC interceptor on a shut-down channel, which throws outside any promise.
      const call = async <T>(task: (workflow: WorkflowHandle) => Promise<T>) => {
        const client = await getClient();
        return client.withDeadline(Date.now() + WORKFLOW_CALL_DEADLINE_MS, () => task(client.workflow.getHandle(input.workflowId)));
      };
      const report = singleFlight('report progress to the pipeline workflow', context, () =>
        call((workflow) => workflow.signal(streamerProgressSignal, progressOf())),
      );
      const pollModel = singleFlight('ask the pipeline workflow for the desired model; keeping the current one', context, async () => {
        desiredModelVersion = await call((workflow) => workflow.query(desiredModelQuery));
      });
      const progressTimer = setInterval(() => void report.run(), input.settings.progressIntervalSeconds * 1000);
      const modelTimer = setInterval(() => void pollModel.run(), MODEL_POLL_INTERVAL_MS);
      const runDeadline = AbortSignal.timeout(input.settings.runSeconds * 1000);
      const stop = AbortSignal.any([context.cancellationSignal, runDeadline]);
      context.heartbeat(progressOf());
      context.log.info('streamer starting', { slot: input.slot, attempt: info.attempt, topic: input.settings.topic });
      try {
        latest = await deps.streamer({
          config: deps.config,
          settings: input.settings,
          slot: input.slot,
          signal: stop,
          onProgress: (progress) => {
            latest = progress;
          },
          desiredModelVersion: () => desiredModelVersion,
        });
      } finally {
        clearInterval(heartbeatTimer);
        clearInterval(progressTimer);
        clearInterval(modelTimer);
      }
      // Nothing this activity started may outlive it: the last report goes after any in flight.
      await Promise.all([report.settled(), pollModel.settled()]);
      await report.run();
      context.log.info('streamer stopped', {
        slot: input.slot,
        rowsTotal: latest.rowsTotal,
        cancelled: context.cancellationSignal.aborted,
      });
      if (context.cancellationSignal.aborted) {
        // Report the clean exit as a cancellation so the workflow's scope sees what it asked for.
        const reason = context.cancellationSignal.reason;
        throw reason instanceof CancelledFailure ? reason : new CancelledFailure(String(reason ?? 'cancelled'));
      }
      return { slot: input.slot, runId: input.runId, rowsTotal: latest.rowsTotal, batches: latest.batches, partitions: latest.partitions };
    },
  };
}

/** A background task that runs at most once at a time, logs its failures, and can be awaited. */
function singleFlight(what: string, context: Context, task: () => Promise<unknown>) {
  let inFlight: Promise<void> | undefined;
  return {
    run(): Promise<void> {
      inFlight ??= task()
        .then(
          () => undefined,
          (error: Error) => context.log.warn(`cannot ${what}`, { error: error.message }),
        )
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
    settled: (): Promise<void> => inFlight ?? Promise.resolve(),
  };
}
