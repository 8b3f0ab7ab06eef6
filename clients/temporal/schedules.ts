// Temporal Schedules for training, health checks and maintenance, derived from the configuration.
// `apply` creates what is missing and updates what differs, so running it twice changes nothing.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import type { PipelineConfig } from '../../config/schema.js';

export const SCHEDULE_PREFIX = 'logstream-';

export interface ScheduleDefinition {
  scheduleId: string;
  workflowType: 'trainingWorkflow' | 'healthCheckWorkflow' | 'maintenanceWorkflow';
  intervalMs: number;
  taskQueue: string;
  /** Plain JSON input of the workflow. */
  input: Record<string, unknown>;
  description: string;
}

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export interface ScheduleSummary {
  scheduleId: string;
  workflowType: string;
  intervalMs?: number;
  paused: boolean;
  actionsTaken: number;
  nextRunAt?: string;
  lastRunAt?: string;
}

/** The three schedules the configuration asks for (pure). `prefix` lets tests keep their own. */
export function scheduleDefinitions(config: PipelineConfig, prefix = SCHEDULE_PREFIX): ScheduleDefinition[] {
  const taskQueue = config.temporal.task_queue;
  const hourMs = 3_600_000;
  // The server keeps intervals in whole seconds; rounding here keeps `apply` idempotent.
  const seconds = (ms: number) => Math.max(1_000, Math.round(ms / 1_000) * 1_000);
  return [
    {
      scheduleId: `${prefix}training`,
      workflowType: 'trainingWorkflow',
      intervalMs: seconds(config.ml.retrain_interval_hours * hourMs),
      taskQueue,
      input: {},
      description: 'retrain the anomaly model and promote it if at least as good (ml.retrain_interval_hours)',
    },
    {
      scheduleId: `${prefix}health-check`,
      workflowType: 'healthCheckWorkflow',
      intervalMs: seconds(config.schedules.health_check_interval_minutes * 60_000),
      taskQueue,
      input: {},
      description:
        'check Kafka lag, streamer heartbeats, Delta freshness, search engine and MLflow (schedules.health_check_interval_minutes)',
    },
    {
      scheduleId: `${prefix}maintenance`,
      workflowType: 'maintenanceWorkflow',
      intervalMs: seconds(config.schedules.maintenance_interval_hours * hourMs),
      taskQueue,
      input: {},
      description: 'OPTIMIZE, checkpoint, VACUUM and clean the logs of every Delta table (schedules.maintenance_interval_hours)',
    },
  ];
}

/** True when the schedule on the server already does what the definition asks. */
export function scheduleMatches(description: ScheduleDescription, definition: ScheduleDefinition): boolean {
  const interval = description.spec.intervals?.[0];
  const action = description.action;
  return (
    description.spec.intervals?.length === 1 &&
    Number(interval?.every) === definition.intervalMs &&
    action.type === 'startWorkflow' &&
    action.workflowType === definition.workflowType &&
    action.taskQueue === definition.taskQueue &&
    JSON.stringify(action.args ?? []) === JSON.stringify([definition.input])
  );
}

export async function applySchedules(
  client: Client,
  definitions: ScheduleDefinition[],
): Promise<Array<{ scheduleId: string; outcome: ApplyOutcome }>> {
  const results: Array<{ scheduleId: string; outcome: ApplyOutcome }> = [];
  for (const definition of definitions) {
    const spec = { intervals: [{ every: definition.intervalMs }] };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: definition.workflowType,
      taskQueue: definition.taskQueue,
      args: [definition.input],
      workflowId: `${definition.scheduleId}-run`,
    };
    const handle = client.schedule.getHandle(definition.scheduleId);
    let current: ScheduleDescription | undefined;
    try {
      current = await handle.describe();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    if (!current) {
      await client.schedule.create({
        scheduleId: definition.scheduleId,
        spec,
        action,
        // A run still going when the next is due is skipped, not queued: these jobs are idempotent.
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        memo: { description: definition.description },
      });
      results.push({ scheduleId: definition.scheduleId, outcome: 'created' });
    } else if (scheduleMatches(current, definition)) {
      results.push({ scheduleId: definition.scheduleId, outcome: 'unchanged' });
    } else {
      await handle.update((previous) => ({ ...previous, spec, action }));
      results.push({ scheduleId: definition.scheduleId, outcome: 'updated' });
    }
  }
  return results;
}

export async function listSchedules(client: Client, prefix = SCHEDULE_PREFIX): Promise<ScheduleSummary[]> {
  const summaries: ScheduleSummary[] = [];
  for await (const schedule of client.schedule.list()) {
    if (!schedule.scheduleId.startsWith(prefix)) continue;
    const description = await client.schedule.getHandle(schedule.scheduleId).describe();
    const last = description.info.recentActions.at(-1);
    summaries.push({
      scheduleId: schedule.scheduleId,
      workflowType: description.action.type === 'startWorkflow' ? String(description.action.workflowType) : description.action.type,
      intervalMs: description.spec.intervals?.[0] ? Number(description.spec.intervals[0].every) : undefined,
      paused: description.state.paused,
      actionsTaken: description.info.numActionsTaken,
      nextRunAt: description.info.nextActionTimes[0]?.toISOString(),
      lastRunAt: last?.takenAt.toISOString(),
    });
  }
  return summaries.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** Pauses the given schedules that are running, with a note the Temporal UI shows; returns the ids it paused. */
export async function pauseSchedules(client: Client, scheduleIds: string[], note: string): Promise<string[]> {
  return changeSchedules(client, scheduleIds, async (handle, state) => {
    if (state.paused) return false;
    await handle.pause(note);
    return true;
  });
}

/**
 * Resumes the given schedules that are paused; with `pausedWithNote`, only those paused with that
 * note (so a schedule someone paused on purpose stays paused). Returns the ids it resumed.
 */
export async function resumeSchedules(client: Client, scheduleIds: string[], note: string, pausedWithNote?: string): Promise<string[]> {
  return changeSchedules(client, scheduleIds, async (handle, state) => {
    if (!state.paused || (pausedWithNote !== undefined && state.note !== pausedWithNote)) return false;
    await handle.unpause(note);
    return true;
  });
}

async function changeSchedules(
  client: Client,
  scheduleIds: string[],
  change: (handle: ReturnType<Client['schedule']['getHandle']>, state: ScheduleDescription['state']) => Promise<boolean>,
): Promise<string[]> {
  const changed: string[] = [];
  for (const scheduleId of scheduleIds) {
    const handle = client.schedule.getHandle(scheduleId);
    try {
      if (await change(handle, (await handle.describe()).state)) changed.push(scheduleId);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
  return changed;
}

/** Deletes the given schedules; returns the ids that existed. */
export async function deleteSchedules(client: Client, scheduleIds: string[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const scheduleId of scheduleIds) {
    try {
      await client.schedule.getHandle(scheduleId).delete();
      deleted.push(scheduleId);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
  return deleted;
}
