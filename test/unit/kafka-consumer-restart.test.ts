// Which consumer crashes clients/kafka restarts from although kafkajs does not, built the way
// kafkajs builds them (its retrier wraps the error it gives up on).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { restartsAfterCrash } from '../../clients/kafka/index.js';

// kafkajs's typings give these constructors fewer arguments than they take at run time.
const KafkaJSGroupCoordinatorNotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;
const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as new (
  error: Error | string,
  options?: { cause?: Error },
) => Error;

describe('restartsAfterCrash', () => {
  it('restarts when no broker answered the group-coordinator lookup, bare or wrapped by the retrier', () => {
    const notFound = new KafkaJSGroupCoordinatorNotFound('Failed to find group coordinator');
    assert.equal(restartsAfterCrash(notFound), true);
    assert.equal(restartsAfterCrash(new KafkaJSNonRetriableError(notFound, { cause: notFound })), true);
  });

  it('leaves other crashes kafkajs gives up on to the streamer', () => {
    assert.equal(restartsAfterCrash(new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.')), false);
    assert.equal(restartsAfterCrash(new Error('Failed to find group coordinator')), false);
  });
});
