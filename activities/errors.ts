// Typed failures of the activities. The names are the ApplicationFailure types workflows see.
import { ApplicationFailure } from '@temporalio/common';

/** A module the activity needs is not part of this build yet; retrying cannot help. */
export function dependencyUnavailable(what: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`${what} is not available in this worker`, 'DependencyUnavailableError');
}
