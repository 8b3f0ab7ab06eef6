// Errors a user sees when talking to Temporal: which address failed and what to do about it.
import { LogstreamError } from '../../config/errors.js';

/** The Temporal frontend at `address` did not answer. */
export class TemporalUnreachableError extends LogstreamError {
  readonly address: string;

  constructor(address: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : '';
    super(`cannot reach Temporal at ${address}${reason}`, {
      hint: 'start the local stack with `logstream stack up`, or point temporal.address (LOGSTREAM_TEMPORAL_ADDRESS) at a running server',
      cause,
    });
    this.address = address;
  }
}

/** A command needs a running pipeline workflow and there is none with that id. */
export class PipelineNotRunningError extends LogstreamError {
  readonly workflowId: string;

  constructor(workflowId: string) {
    super(`no pipeline is running with workflow id ${workflowId}`, { hint: 'start one with `logstream start`' });
    this.workflowId = workflowId;
  }
}

/** `logstream start` while a pipeline with the same id already runs. */
export class PipelineAlreadyRunningError extends LogstreamError {
  readonly workflowId: string;

  constructor(workflowId: string) {
    super(`a pipeline is already running with workflow id ${workflowId}`, {
      hint: 'see it with `logstream status`, change it with `logstream scale N`, or stop it with `logstream stop`',
    });
    this.workflowId = workflowId;
  }
}

/**
 * The workflow exists and runs, but no worker polls its task queue, so nothing can answer a query
 * or run its next step (`logstream status` with the worker stopped).
 */
export class NoWorkerPollingError extends LogstreamError {
  readonly workflowId: string;
  readonly taskQueue: string;

  constructor(workflowId: string, taskQueue: string, cause?: unknown) {
    super(`the pipeline workflow ${workflowId} exists, but no worker polls task queue ${taskQueue}, so nothing can answer`, {
      hint: 'start one with `logstream worker` (it keeps running; use another terminal), or run everything with `npm start`',
      cause,
    });
    this.workflowId = workflowId;
    this.taskQueue = taskQueue;
  }
}
