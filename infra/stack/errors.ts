// Typed errors of the local service stack. Each names the service and what the user can do.
import { LogstreamError } from '../../config/errors.js';

/** A service of the stack failed to install, start or stop. */
export class StackError extends LogstreamError {
  readonly service: string;
  /** The service's log file, when there is one worth reading. */
  readonly logFile?: string;

  constructor(service: string, message: string, details: { hint?: string; logFile?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, { hint: details.hint, cause: details.cause, exitCode: details.exitCode });
    this.service = service;
    this.logFile = details.logFile;
  }
}

/** A program the service needs (java, go, python3, mvn, apt-get) is not on PATH. */
export class ToolchainMissingError extends StackError {
  constructor(service: string, command: string, fix: string) {
    super(service, `${service} needs "${command}", which is not on PATH`, { hint: fix });
  }
}

/** A port the service listens on is held by a process the stack did not start. */
export class PortTakenError extends StackError {
  readonly port: number;

  constructor(service: string, port: number, holder: string | undefined, hint: string) {
    super(service, `${service} cannot start: port ${port} is already in use${holder ? ` by ${holder}` : ''}`, { hint });
    this.port = port;
  }
}

/** An install command failed; the message carries its last output lines. */
export class InstallError extends StackError {}

/** The service started but did not become healthy in time, or exited. */
export class ServiceStartError extends StackError {}
