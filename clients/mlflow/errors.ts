// Errors of the MLflow client: the server cannot be reached, or it answered with an error.
import { LogstreamError } from '../../config/errors.js';

export class MlflowUnavailableError extends LogstreamError {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    super(`MLflow tracking server at ${url} is unreachable (${reason})`, {
      cause,
      hint: 'start it with `logstream stack up`, or point mlflow.tracking_uri (LOGSTREAM_MLFLOW_TRACKING_URI) at a running server',
    });
    this.url = url;
  }
}

export class MlflowApiError extends LogstreamError {
  readonly status: number;
  /** MLflow's error_code, e.g. RESOURCE_DOES_NOT_EXIST. */
  readonly errorCode?: string;

  constructor(what: string, status: number, errorCode: string | undefined, message: string) {
    super(`MLflow ${what} failed: HTTP ${status}${errorCode ? ` ${errorCode}` : ''}: ${message}`);
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** The server refused the credentials (HTTP 401): wrong password, or none given to a basic-auth server. */
export class MlflowAuthenticationError extends LogstreamError {
  readonly url: string;

  constructor(url: string, username: string | undefined, reason: string) {
    const who = username === undefined ? 'without credentials' : `as user "${username}"`;
    super(`MLflow at ${url} refused the request ${who} (HTTP 401${reason ? `: ${reason}` : ''})`, {
      exitCode: 2,
      hint:
        username === undefined
          ? `the server wants basic auth: set mlflow.username and mlflow.password (for example "\${env:MLFLOW_PASSWORD}")`
          : 'check mlflow.username and mlflow.password',
    });
    this.url = url;
  }
}
