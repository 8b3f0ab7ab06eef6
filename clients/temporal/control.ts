// Helpers for commands that drive workflows: does the pipeline run, does a worker listen,
// and turning transport errors into errors that name the address.
import { WorkflowNotFoundError } from '@temporalio/common';
import { isGrpcServiceError, ServiceError, type Client, type QueryDefinition, type WorkflowHandle } from '@temporalio/client';
import { LogstreamError } from '../../config/errors.js';
import { withClient, type TemporalSettings } from './connection.js';
import { NoWorkerPollingError, PipelineNotRunningError, TemporalUnreachableError } from './errors.js';

const DEADLINE_EXCEEDED = 4;
/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED: the server went away after we connected. */
const UNREACHABLE_CODES = new Set([DEADLINE_EXCEEDED, 14]);

export function isUnreachable(error: unknown): boolean {
  if (isGrpcServiceError(error)) return UNREACHABLE_CODES.has(error.code);
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== error && isUnreachable(cause);
}

/** Rethrows transport failures as TemporalUnreachableError (with the address), others as they are. */
export function rethrowTemporalError(error: unknown, address: string): never {
  if (error instanceof LogstreamError) throw error; // already says what is wrong
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
  return (await describeRunning(client, workflowId)).handle;
}

async function describeRunning(client: Client, workflowId: string): Promise<{ handle: WorkflowHandle; taskQueue: string }> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') throw new PipelineNotRunningError(workflowId);
    return { handle, taskQueue: description.taskQueue };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new PipelineNotRunningError(workflowId);
    throw error;
  }
}

/**
 * Queries a running workflow. A query needs a worker polling the workflow's task queue: without
 * one the server holds the query until it times out (30 s) and the client says only "Failed to
 * query Workflow". So the pollers are looked up first, and a query that times out although the
 * server answered the description is reported the same way: NoWorkerPollingError.
 */
export async function queryRunningWorkflow<Result>(
  client: Client,
  workflowId: string,
  query: QueryDefinition<Result, []>,
): Promise<Result> {
  const { handle, taskQueue } = await describeRunning(client, workflowId);
  if (!(await hasWorkflowPollers(client, taskQueue))) throw new NoWorkerPollingError(workflowId, taskQueue);
  try {
    return await handle.query(query);
  } catch (error) {
    if (error instanceof ServiceError && isGrpcServiceError(error.cause) && error.cause.code === DEADLINE_EXCEEDED) {
      throw new NoWorkerPollingError(workflowId, taskQueue, error);
    }
    throw error;
  }
}

/** Whether any worker polled `taskQueue` for workflow tasks recently (the server keeps pollers a few minutes). */
async function hasWorkflowPollers(client: Client, taskQueue: string): Promise<boolean> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (response.pollers ?? []).length > 0;
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
