// Typed errors shared by every module. The CLI turns them into one-line
// messages and exit codes (2 = bad usage or configuration, 1 = runtime failure).

export class LogstreamError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  /** What the user can do about it, printed under the message. */
  readonly hint?: string;

  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad command-line usage: wrong flag value, missing argument. */
export class UsageError extends LogstreamError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, hint });
  }
}

/** The configuration is unreadable or invalid. Names the file and the key. */
export class ConfigError extends LogstreamError {
  readonly file?: string;
  readonly key?: string;

  constructor(message: string, details: { file?: string; key?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: 2, hint: details.hint, cause: details.cause });
    this.file = details.file;
    this.key = details.key;
  }
}
