// Pure decisions of the pipeline workflow: how many streamers should run, which
// slots to start or cancel, what the status query answers. No Temporal APIs here,
// so these run in unit tests as plain functions.
import type {
  LearningProgress,
  LearningSettings,
  LearningStatus,
  PipelineInput,
  PipelineState,
  PipelineStatus,
  StreamerProgress,
  StreamerState,
  StreamerStatus,
} from './types.js';

/** Control state the signals change; carried across continue-as-new. */
export interface ControlState {
  paused: boolean;
  stopping: boolean;
  desiredStreamers: number;
  desiredModelVersion: string;
}

export interface SlotView {
  slot: number;
  state: StreamerState;
  progress?: StreamerProgress;
  lastError?: string;
}

/** A streamer count the partitions can feed: 1 ≤ n ≤ partitions. */
export function clampStreamers(requested: number, partitions: number): number {
  if (!Number.isFinite(requested)) return 1;
  return Math.max(1, Math.min(Math.floor(requested), Math.max(1, partitions)));
}

/** How many streamers should run now: none while paused, stopping or draining for continue-as-new. */
export function targetStreamerCount(control: ControlState, drainingForContinueAsNew: boolean): number {
  if (control.paused || control.stopping || drainingForContinueAsNew) return 0;
  return control.desiredStreamers;
}

/**
 * Desired-vs-running reconciliation. Slots are numbered from 0; scaling down
 * cancels the highest slots, scaling up fills the lowest free ones.
 * Slots already being cancelled count as gone.
 */
export function reconcileSlots(target: number, activeSlots: readonly number[]): { start: number[]; cancel: number[] } {
  const active = [...new Set(activeSlots)].sort((a, b) => a - b);
  const cancel = active.filter((slot) => slot >= target);
  const keep = new Set(active.filter((slot) => slot < target));
  const start: number[] = [];
  for (let slot = 0; slot < target; slot += 1) if (!keep.has(slot)) start.push(slot);
  return { start, cancel };
}

/** Continue-as-new when the server suggests it or the test knob's run count is reached. */
export function shouldContinueAsNew(suggested: boolean, runsThisExecution: number, maxRunsBeforeContinueAsNew?: number): boolean {
  if (suggested) return true;
  return maxRunsBeforeContinueAsNew !== undefined && maxRunsBeforeContinueAsNew > 0 && runsThisExecution >= maxRunsBeforeContinueAsNew;
}

/** The input of the next run: same settings, control state and counters carried over. */
export function continueAsNewInput(
  input: PipelineInput,
  control: ControlState,
  runsCompleted: number,
  continuedAsNewCount: number,
): PipelineInput {
  return {
    ...input,
    streamers: control.desiredStreamers,
    paused: control.paused,
    modelVersion: control.desiredModelVersion,
    runsCompleted,
    continuedAsNewCount: continuedAsNewCount + 1,
  };
}

/** Keeps a progress report only when it belongs to the slot's current run. */
export function acceptProgress(slot: SlotView | undefined, progress: StreamerProgress, currentRunId: string | undefined): boolean {
  return slot !== undefined && currentRunId !== undefined && progress.runId === currentRunId;
}

export function pipelineState(control: ControlState, started: boolean, slots: readonly SlotView[]): PipelineState {
  if (!started) return 'starting';
  if (control.stopping) return slots.length ? 'stopping' : 'stopped';
  if (control.paused) return slots.length ? 'stopping' : 'paused';
  return 'running';
}

export function buildStatus(args: {
  control: ControlState;
  started: boolean;
  slots: readonly SlotView[];
  topic?: string;
  partitions?: number;
  runsCompleted: number;
  continuedAsNewCount: number;
  learning?: LearningStatus;
}): PipelineStatus {
  const streamers: StreamerStatus[] = [...args.slots]
    .sort((a, b) => a.slot - b.slot)
    .map((view) => {
      const { slot: _slot, ...progress } = view.progress ?? ({} as Partial<StreamerProgress>);
      return { ...progress, slot: view.slot, state: view.state, ...(view.lastError ? { lastError: view.lastError } : {}) };
    });
  return {
    state: pipelineState(args.control, args.started, args.slots),
    topic: args.topic,
    partitions: args.partitions,
    desiredStreamers: args.control.desiredStreamers,
    runningStreamers: args.slots.filter((view) => view.state === 'running' || view.state === 'starting').length,
    desiredModelVersion: args.control.desiredModelVersion,
    runsCompleted: args.runsCompleted,
    continuedAsNewCount: args.continuedAsNewCount,
    streamers,
    ...(args.learning ? { learning: args.learning } : {}),
  };
}

/** How long a learning pipeline waits before training again after a first model was not promoted. */
export const RETRAIN_AFTER_REJECTION_MS = 3_600_000;

/**
 * What a pipeline without a model for its traffic does next: keep learning, or train now. It
 * trains once the site's traffic in Delta reaches the thresholds, and again after a candidate the
 * gate did not promote, once the traffic has doubled or an hour has passed.
 */
export function learningDecision(
  progress: LearningProgress,
  settings: LearningSettings,
  last: LearningStatus['lastTraining'],
  nowMs: number,
): 'scoring' | 'learning' | 'train' {
  if (progress.championUsable) return 'scoring';
  if (progress.rows < settings.rows || progress.minutes < settings.minutes) return 'learning';
  if (!last) return 'train';
  if (!last.finishedAt) return 'learning';
  const again = progress.rows >= 2 * last.rows || nowMs - Date.parse(last.finishedAt) >= RETRAIN_AFTER_REJECTION_MS;
  return again ? 'train' : 'learning';
}

/** The status line's words for it, e.g. "learning (3,200 of 5,000 rows, 41 of 60 minutes)". */
export function learningSummary(learning: LearningStatus | undefined): string | undefined {
  if (!learning || learning.state === 'scoring') return undefined;
  const number = (value: number) => Math.floor(value).toLocaleString('en-US');
  const progress = `${number(learning.rows)} of ${number(learning.rowsNeeded)} rows, ${number(learning.minutes)} of ${number(learning.minutesNeeded)} minutes`;
  if (learning.state === 'training') return `training a first model on the site's traffic (${progress})`;
  const rejected = learning.lastTraining?.finishedAt && !learning.lastTraining.promoted;
  return `learning (${progress})${rejected ? `; the last candidate was not promoted${learning.lastTraining?.error ? `: ${learning.lastTraining.error}` : ''}` : ''}`;
}

/** Model selector from a signal: a positive version number or "champion". */
export function normaliseModelVersion(requested: unknown): string {
  const text = String(requested ?? '').trim();
  if (text === '' || text.toLowerCase() === 'champion') return 'champion';
  if (/^\d+$/.test(text) && Number(text) > 0) return String(Number(text));
  throw new Error(`model version must be a positive number or "champion", got "${text}"`);
}
