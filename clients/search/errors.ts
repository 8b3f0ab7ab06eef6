// Typed errors of the search module. Each names the engine and its address so a user knows where to look.
import { LogstreamError } from '../../config/errors.js';

export type SearchEngineKind = 'opensearch' | 'elasticsearch';

/** Nothing answers at the configured address, or the engine timed out. */
export class SearchUnavailableError extends LogstreamError {
  readonly engine: SearchEngineKind;
  readonly url: string;

  constructor(engine: SearchEngineKind, url: string, reason: string, cause?: unknown) {
    super(`${engine} at ${url} is unreachable: ${reason}`, {
      cause,
      hint:
        engine === 'opensearch'
          ? 'start it with `logstream stack up opensearch`, or point elasticsearch.host at a running engine'
          : 'start it with `logstream stack up elasticsearch`, or point elasticsearch.host at a running engine',
    });
    this.engine = engine;
    this.url = url;
  }
}

/** The engine answered, but refused the request as a whole (not one document of a bulk). */
export class SearchRequestError extends LogstreamError {
  readonly engine: SearchEngineKind;
  readonly operation: string;
  readonly statusCode: number;
  readonly errorType: string;

  constructor(engine: SearchEngineKind, operation: string, statusCode: number, errorType: string, reason: string, cause?: unknown) {
    super(`${engine} refused ${operation} (${statusCode} ${errorType}): ${reason}`, { cause });
    this.engine = engine;
    this.operation = operation;
    this.statusCode = statusCode;
    this.errorType = errorType;
  }
}

/** The engine refused the credentials (HTTP 401). */
export class SearchAuthenticationError extends LogstreamError {
  readonly engine: SearchEngineKind;
  readonly url: string;

  constructor(engine: SearchEngineKind, url: string, credentials: string, reason: string, cause?: unknown) {
    super(`${engine} at ${url} refused the credentials (HTTP 401, ${credentials}): ${reason}`, {
      cause,
      exitCode: 2,
      hint:
        engine === 'elasticsearch'
          ? 'check elasticsearch.username and elasticsearch.password, or elasticsearch.api_key'
          : 'check elasticsearch.username and elasticsearch.password',
    });
    this.engine = engine;
    this.url = url;
  }
}

/** The address answers, but not as the engine config.elasticsearch.kind names. */
export class SearchEngineMismatchError extends LogstreamError {
  constructor(expected: SearchEngineKind, url: string, found: string) {
    super(`${url} is not ${expected}: it answers as ${found}`, {
      exitCode: 2,
      hint: 'set elasticsearch.kind to the engine that runs at elasticsearch.host (opensearch or elasticsearch)',
    });
  }
}
