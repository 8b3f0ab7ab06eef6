import { LogstreamError } from '../config/errors.js';

/** The streamer hit an error it cannot ride out (Delta unwritable, consumer gone); it resumes from Delta when restarted. */
export class StreamerFailedError extends LogstreamError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause, hint: 'fix the cause and start the streamer again; it resumes after the last Delta commit' });
  }
}
