// Typed errors of the Delta engine. Each names the table and what a user can do about it.
import { LogstreamError } from '../../config/errors.js';

/** Base of every Delta engine error; exit code 1 (runtime failure) unless stated. */
export class DeltaError extends LogstreamError {
  readonly tablePath?: string;

  constructor(message: string, options: { tablePath?: string; hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { exitCode: options.exitCode ?? 1, hint: options.hint, cause: options.cause });
    this.tablePath = options.tablePath;
  }
}

/** The path holds no Delta table (no _delta_log with commits). */
export class TableNotFoundError extends DeltaError {
  constructor(tablePath: string) {
    super(`no Delta table at ${tablePath} (no _delta_log/ commits found)`, {
      tablePath,
      exitCode: 2,
      hint: 'check the path; a table is the folder that contains _delta_log/',
    });
  }
}

/** A table already exists where one was to be created. */
export class TableExistsError extends DeltaError {
  constructor(tablePath: string) {
    super(`a Delta table already exists at ${tablePath}`, { tablePath });
  }
}

/** The requested version (or timestamp) is not in the table's log. */
export class VersionNotFoundError extends DeltaError {
  constructor(tablePath: string, what: string, hint?: string) {
    super(`${what} is not available in the Delta table at ${tablePath}`, { tablePath, exitCode: 2, hint });
  }
}

/** The table needs a reader or writer feature this engine does not implement; it is refused, never misread. */
export class UnsupportedFeatureError extends DeltaError {
  readonly feature: string;

  constructor(tablePath: string, feature: string, access: 'read' | 'write') {
    super(`the Delta table at ${tablePath} uses "${feature}", which this engine cannot ${access}`, {
      tablePath,
      hint: 'read it with delta-rs or Spark; LogStream tables never use this feature',
    });
    this.feature = feature;
  }
}

/** The log itself is inconsistent (a missing commit, an unreadable action). */
export class CorruptLogError extends DeltaError {
  constructor(tablePath: string, detail: string) {
    super(`the Delta log of ${tablePath} is inconsistent: ${detail}`, { tablePath });
  }
}

/** A concurrent commit made ours impossible (it removed our files, changed the schema). Not retried. */
export class CommitConflictError extends DeltaError {
  readonly winningVersion: number;

  constructor(tablePath: string, winningVersion: number, reason: string) {
    super(`commit to ${tablePath} conflicts with version ${winningVersion}: ${reason}`, {
      tablePath,
      hint: 'read the table again and retry the operation',
    });
    this.winningVersion = winningVersion;
  }
}

/** Commit retries were exhausted while other writers kept winning. */
export class CommitRetriesExhaustedError extends DeltaError {
  constructor(tablePath: string, attempts: number) {
    super(`gave up committing to ${tablePath} after ${attempts} attempts lost to concurrent writers`, { tablePath });
  }
}

/** Data does not fit the table (wrong columns or types). */
export class SchemaMismatchError extends DeltaError {
  constructor(tablePath: string, detail: string) {
    super(`data does not match the schema of ${tablePath}: ${detail}`, { tablePath, exitCode: 2 });
  }
}

/** A bad --where expression or predicate. */
export class PredicateError extends DeltaError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, hint: hint ?? "expected e.g.: status = 500 and timestamp >= '2024-01-01T00:00:00Z'" });
  }
}

/** VACUUM with a retention shorter than the safety floor, without force. */
export class RetentionTooShortError extends DeltaError {
  constructor(tablePath: string, retentionHours: number, minimumHours: number) {
    super(
      `refusing to VACUUM ${tablePath} with a retention of ${retentionHours} h (less than ${minimumHours} h): concurrent readers and writers could lose files`,
      {
        tablePath,
        exitCode: 2,
        hint: 'pass force (--force) if no other reader or writer uses the table',
      },
    );
  }
}

/** A table location this engine cannot open: an unknown scheme, a malformed s3:// URL, incomplete S3 credentials settings. */
export class StorageLocationError extends DeltaError {
  constructor(location: string, detail: string, hint?: string) {
    super(`cannot open ${location}: ${detail}`, { tablePath: location, exitCode: 2, hint });
  }
}

/**
 * The object store accepted a second conditional PUT (If-None-Match: *) of an existing key: two
 * writers could then both commit the same version and one commit would silently vanish.
 */
export class ConditionalWriteUnsupportedError extends DeltaError {
  readonly store: string;

  constructor(store: string, detail: string) {
    super(`the object store at ${store} does not honour conditional writes (If-None-Match: *): ${detail}`, {
      hint: 'Delta commits need put-if-absent; use a store with conditional writes (AWS S3, SeaweedFS, …); there is no unsafe mode',
    });
    this.store = store;
  }
}

/** A storage request failed for a reason other than a missing file (access denied, no such bucket, endpoint unreachable). */
export class StorageRequestError extends DeltaError {
  readonly status?: number;

  constructor(message: string, options: { status?: number; hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, { hint: options.hint, cause: options.cause, exitCode: options.exitCode });
    this.status = options.status;
  }
}
