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

/** The frontend (or a proxy in front of it) refused this client: a wrong API key or client certificate. */
export class TemporalAuthenticationError extends LogstreamError {
  readonly address: string;

  constructor(address: string, credentials: 'api-key' | 'client-certificate' | 'none', httpStatus: number | undefined, cause?: unknown) {
    const status = httpStatus ? ` (HTTP ${httpStatus})` : '';
    const what =
      credentials === 'api-key'
        ? `refused the API key${status}`
        : credentials === 'client-certificate'
          ? `refused the connection${status}: the client certificate is missing or not signed by a CA the server trusts`
          : `refused the connection${status}: it wants credentials`;
    super(`Temporal at ${address} ${what}`, {
      cause,
      exitCode: 2,
      hint:
        credentials === 'api-key'
          ? 'check temporal.api_key (Temporal Cloud keys are scoped to namespaces: check temporal.namespace too)'
          : credentials === 'client-certificate'
            ? 'set temporal.tls_cert_file and temporal.tls_key_file to a client certificate signed by a CA the server trusts'
            : 'set temporal.api_key, or temporal.tls_cert_file and temporal.tls_key_file, as the server asks',
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
