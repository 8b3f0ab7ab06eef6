// pipelineWorkflow: keeps N runStreamer activities running on the streamers' task queue,
// reacts to pause/resume/stop/scale/reloadModel, answers `status`, continues as new when told.
import {
  ActivityCancellationType,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  log,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from './interfaces.js';
import {
  buildStatus,
  clampStreamers,
  continueAsNewInput,
  learningDecision,
  normaliseModelVersion,
  reconcileSlots,
  shouldContinueAsNew,
  targetStreamerCount,
  type ControlState,
  type SlotView,
} from './pipelineLogic.js';
import {
  desiredModelQuery,
  pauseSignal,
  reloadModelSignal,
  resumeSignal,
  scaleSignal,
  statusQuery,
  stopSignal,
  streamerProgressSignal,
} from './signals.js';
import type { LearningStatus, PipelineInput, PipelineSettings, PipelineStatus, TrainingInput, TrainingReport } from './types.js';

const setup = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumInterval: '30 seconds' },
});

/** Seconds a streamer that failed with a non-retryable error waits before the slot starts again. */
const FAILED_SLOT_BACKOFF_SECONDS = 30;
/** Extra time beyond the bounded run for the streamer to finish its batch and close. */
const RUN_GRACE_SECONDS = 300;

interface Slot extends SlotView {
  scope: CancellationScope;
  done: Promise<void>;
  runId?: string;
}

export async function pipelineWorkflow(input: PipelineInput = {}): Promise<PipelineStatus> {
  const control: ControlState = {
    paused: input.paused ?? false,
    stopping: false,
    desiredStreamers: input.streamers ?? 0, // 0 = take the configured count once settings are known
    desiredModelVersion: safeModelVersion(input.modelVersion) ?? 'champion',
  };
  const slots = new Map<number, Slot>();
  let settings: PipelineSettings | undefined;
  let runsCompleted = input.runsCompleted ?? 0;
  let runsThisExecution = 0;
  let controlVersion = 0;
  let drainingForContinueAsNew = false;
  let learning: LearningStatus | undefined;
  const continuedAsNewCount = input.continuedAsNewCount ?? 0;

  const status = (): PipelineStatus =>
    buildStatus({
      control,
      started: settings !== undefined,
      slots: [...slots.values()],
      topic: settings?.topic,
      partitions: settings?.partitions,
      runsCompleted,
      continuedAsNewCount,
      learning,
    });
  const changed = () => {
    controlVersion += 1;
  };

  setHandler(statusQuery, status);
  setHandler(desiredModelQuery, () => control.desiredModelVersion);
  setHandler(pauseSignal, () => {
    control.paused = true;
    changed();
  });
  setHandler(resumeSignal, () => {
    control.paused = false;
    changed();
  });
  setHandler(stopSignal, () => {
    control.stopping = true;
    changed();
  });
  setHandler(scaleSignal, (requested) => {
    control.desiredStreamers = settings ? clampStreamers(Number(requested), settings.partitions) : Number(requested);
    changed();
  });
  setHandler(reloadModelSignal, (requested) => {
    const version = safeModelVersion(requested);
    if (version === undefined) log.warn('reloadModel ignored: not a version number or "champion"', { requested });
    else control.desiredModelVersion = version;
  });
  setHandler(streamerProgressSignal, (progress) => {
    const slot = slots.get(progress.slot);
    if (!slot || slot.runId !== progress.runId) return; // a report from an older run of the slot
    slot.progress = progress;
    if (slot.state === 'starting') slot.state = 'running';
  });

  settings = await setup.resolvePipelineSettings(input);
  const resolved = settings;
  control.desiredStreamers = clampStreamers(control.desiredStreamers || resolved.streamers, resolved.partitions);
  await setup.ensurePipelineResources(resolved);

  const streamer = proxyActivities<PipelineActivities>({
    taskQueue: resolved.streamerTaskQueue,
    startToCloseTimeout: `${resolved.runSeconds + RUN_GRACE_SECONDS} seconds`,
    heartbeatTimeout: `${resolved.heartbeatTimeoutSeconds} seconds`,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Retries forever on transient failures (dead worker, broker hiccup); the resume point comes from Delta.
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['ConfigError'] },
  });

  const runSlot = async (slot: Slot): Promise<void> => {
    for (;;) {
      slot.runId = uuid4();
      slot.state = 'starting';
      slot.progress = undefined;
      try {
        await streamer.runStreamer({
          workflowId: workflowInfo().workflowId,
          slot: slot.slot,
          runId: slot.runId,
          settings: resolved,
          modelVersion: control.desiredModelVersion,
        });
        slot.lastError = undefined;
        runsCompleted += 1;
        runsThisExecution += 1;
      } catch (error) {
        if (isCancellation(error)) return;
        slot.state = 'failed';
        slot.lastError = error instanceof Error ? messageOf(error) : String(error);
        log.error('streamer failed', { slot: slot.slot, error: slot.lastError });
        try {
          await sleep(`${FAILED_SLOT_BACKOFF_SECONDS} seconds`);
        } catch (sleepError) {
          if (isCancellation(sleepError)) return;
          throw sleepError;
        }
      }
      if (slot.scope.consideredCancelled) return;
      if (shouldContinueAsNew(workflowInfo().continueAsNewSuggested, runsThisExecution, input.maxIterationsBeforeContinueAsNew)) {
        drainingForContinueAsNew = true;
        changed();
        return;
      }
    }
  };

  /**
   * Learn first, then judge: while the registry has no champion this traffic may be scored with
   * (none yet, or one trained on generated logs for a site's pipeline), the streamers store rows
   * unscored; once Delta holds enough of the site's traffic, trainingWorkflow trains from it, and
   * its model scores once the own-traffic gate promotes it.
   */
  const learn = async (): Promise<void> => {
    for (;;) {
      if (control.stopping || drainingForContinueAsNew) return;
      try {
        const progress = await setup.learningProgress(resolved);
        const decision = learningDecision(progress, resolved.learning, learning?.lastTraining, Date.now());
        learning = {
          state: decision === 'scoring' ? 'scoring' : 'learning',
          rows: progress.rows,
          rowsNeeded: resolved.learning.rows,
          minutes: progress.minutes,
          minutesNeeded: resolved.learning.minutes,
          ...(progress.reason ? { reason: progress.reason } : {}),
          ...(learning?.lastTraining ? { lastTraining: learning.lastTraining } : {}),
        };
        if (decision === 'train') {
          const lastTraining: NonNullable<LearningStatus['lastTraining']> = {
            workflowId: `${workflowInfo().workflowId}-first-model-${uuid4().slice(0, 8)}`,
            startedAt: new Date().toISOString(),
            rows: progress.rows,
          };
          learning = { ...learning, state: 'training', lastTraining };
          try {
            const report = await executeChild<(input: TrainingInput) => Promise<TrainingReport>>('trainingWorkflow', {
              workflowId: lastTraining.workflowId,
              args: [{ pipelineWorkflowIds: [workflowInfo().workflowId] }],
              // A stopping pipeline does not cut a training short; the model is registered anyway.
              parentClosePolicy: ParentClosePolicy.ABANDON,
            });
            lastTraining.promoted = report.promoted;
            lastTraining.version = report.version;
          } catch (error) {
            if (isCancellation(error)) return;
            lastTraining.error = error instanceof Error ? messageOf(error) : String(error);
          }
          lastTraining.finishedAt = new Date().toISOString();
          continue;
        }
      } catch (error) {
        if (isCancellation(error)) return;
        log.warn('cannot tell whether the streamers may score yet', { error: error instanceof Error ? error.message : String(error) });
      }
      try {
        await condition(() => control.stopping || drainingForContinueAsNew, `${resolved.learning.checkSeconds} seconds`);
      } catch (error) {
        if (isCancellation(error)) return;
        throw error;
      }
    }
  };
  // Pipelines started before this loop existed replay without it.
  if (patched('learn-first')) void learn();

  const startSlot = (index: number) => {
    const scope = new CancellationScope();
    const slot = { slot: index, state: 'starting', scope } as Slot;
    slots.set(index, slot);
    slot.done = scope
      .run(() => runSlot(slot))
      .finally(() => {
        slots.delete(index);
        changed();
      });
  };

  try {
    for (;;) {
      if (
        !drainingForContinueAsNew &&
        shouldContinueAsNew(workflowInfo().continueAsNewSuggested, runsThisExecution, input.maxIterationsBeforeContinueAsNew)
      ) {
        drainingForContinueAsNew = true;
      }
      const plan = reconcileSlots(
        targetStreamerCount(control, drainingForContinueAsNew),
        [...slots.keys()].filter((index) => slots.get(index)!.state !== 'stopping'),
      );
      for (const index of plan.cancel) {
        const slot = slots.get(index)!;
        slot.state = 'stopping';
        slot.scope.cancel();
      }
      for (const index of plan.start) startSlot(index);
      if (plan.cancel.length) {
        // Wait for the streamers' clean exit before anything else starts: no two members on one slot.
        await Promise.all(plan.cancel.map((index) => slots.get(index)?.done));
        continue;
      }
      if (slots.size === 0 && control.stopping) break;
      if (slots.size === 0 && drainingForContinueAsNew) {
        await condition(allHandlersFinished);
        return await continueAsNew<typeof pipelineWorkflow>(continueAsNewInput(input, control, runsCompleted, continuedAsNewCount));
      }
      const seen = controlVersion;
      await condition(() => controlVersion !== seen || (!drainingForContinueAsNew && workflowInfo().continueAsNewSuggested));
    }
  } catch (error) {
    if (isCancellation(error)) {
      // The workflow itself was cancelled: the slots' scopes are cancelled with it; wait for clean exits.
      await CancellationScope.nonCancellable(() => Promise.all([...slots.values()].map((slot) => slot.done)));
    }
    throw error;
  }
  await condition(allHandlersFinished);
  return status();
}

function safeModelVersion(requested: unknown): string | undefined {
  if (requested === undefined) return undefined;
  try {
    return normaliseModelVersion(requested);
  } catch {
    return undefined;
  }
}

function messageOf(error: Error): string {
  const cause = (error as Error & { cause?: Error }).cause;
  return cause?.message ? `${error.message}: ${cause.message}` : error.message;
}
