// Typed errors of model training, loading and scoring.
import { LogstreamError } from '../config/errors.js';

/** A model file or registry artifact that this version cannot use: wrong schema, other feature spec, corrupt. */
export class ModelArtifactError extends LogstreamError {
  readonly source: string;

  constructor(message: string, source: string, hint?: string) {
    super(`model ${source}: ${message}`, { exitCode: 1, hint });
    this.source = source;
  }
}

/** Training cannot run on the data given (too few rows, unreadable file). */
export class TrainingDataError extends LogstreamError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 1, hint });
  }
}
