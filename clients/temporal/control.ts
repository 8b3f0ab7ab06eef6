// Helpers for commands that drive workflows: does the pipeline run, does a worker listen,
// and turning transport errors into errors that name the address.
import { WorkflowNotFoundError } from '@temporalio/common';
import { isGrpcServiceError, type Client, type WorkflowHandle } from '@temporalio/client';
import { LogstreamError } from '../../config/errors.js';
import { withClient, type TemporalSettings } from './connection.js';
import { PipelineNotRunningError, TemporalUnreachableError } from './errors.js';

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED: the server went away after we connected. */
const UNREACHABLE_CODES = new Set([4, 14]);

export function isUnreachable(error: unknown): boolean {
  if (isGrpcServiceError(error)) return UNREACHABLE_CODES.has(error.code);
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== error && isUnreachable(cause);
}

/** Rethrows transport failures as TemporalUnreachableError (with the address), others as they are. */
export function rethrowTemporalError(error: unknown, address: string): never {
  if (isUnreachable(error)) throw new TemporalUnreachableError(address, error);
  throw error;
}

/** Runs `use` with a connected client; transport failures become TemporalUnreachableError naming the address. */
export async function withTemporal<T>(settings: TemporalSettings, use: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await withClient(settings, use);
  } catch (error) {
    return rethrowTemporalError(error, settings.address);
  }
}

/** The handle of a running workflow, or PipelineNotRunningError. */
export async function runningWorkflow(client: Client, workflowId: string): Promise<WorkflowHandle> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') throw new PipelineNotRunningError(workflowId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new PipelineNotRunningError(workflowId);
    throw error;
  }
  return handle;
}

/** Fails fast when no worker polls `taskQueue`, instead of starting work nobody will pick up. */
export async function ensureWorkerPolling(client: Client, namespace: string, taskQueue: string): Promise<void> {
  const response = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  if ((response.pollers ?? []).length === 0) {
    throw new LogstreamError(`no logstream worker polls task queue ${taskQueue}`, {
      hint: 'start one with `logstream worker` (it keeps running; use another terminal)',
    });
  }
}
