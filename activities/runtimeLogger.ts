// Routes the Temporal SDK's logs (worker, workflow and activity loggers) to pino JSON lines on stderr.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { pino, type Logger as PinoLogger } from 'pino';

let installed = false;
let workerLogger: PinoLogger | undefined;

/** The worker process's own logger (JSON lines on stderr). */
export function workerLog(level: string = process.env.LOGSTREAM_LOG_LEVEL ?? 'info'): PinoLogger {
  workerLogger ??= pino({ name: 'logstream-worker', level }, pino.destination(2));
  return workerLogger;
}

/** Installs the process-wide Temporal runtime once, before any worker or native connection. */
export function installWorkerRuntime(level: string = process.env.LOGSTREAM_LOG_LEVEL ?? 'info'): void {
  if (installed) return;
  installed = true;
  const logger = workerLog(level);
  const write = (pinoLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error', message: string, meta?: LogMetadata) => {
    // Task tokens are opaque and long; they only make lines harder to read.
    const { taskToken: _taskToken, ...rest } = (meta ?? {}) as Record<string, unknown>;
    logger[pinoLevel](rest, message);
  };
  const adapter: Logger = {
    log: (logLevel: LogLevel, message: string, meta?: LogMetadata) => write(logLevel.toLowerCase() as 'info', message, meta),
    trace: (message, meta) => write('trace', message, meta),
    debug: (message, meta) => write('debug', message, meta),
    info: (message, meta) => write('info', message, meta),
    warn: (message, meta) => write('warn', message, meta),
    error: (message, meta) => write('error', message, meta),
  };
  Runtime.install({ logger: adapter });
}
