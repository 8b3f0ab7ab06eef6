// Topic creation that failed with a retriable error (a KRaft broker that has created the topic
// but not yet published it) waits for the topic instead of failing the streamer's start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayStillAppear, waitForTopic } from '../../clients/kafka/topicCreation.js';

describe('topic creation', () => {
  it('treats a retriable error (UNKNOWN_TOPIC_OR_PARTITION) as a topic that may still appear, others not', () => {
    assert.equal(mayStillAppear({ type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true }), true);
    assert.equal(mayStillAppear({ type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false }), false);
    assert.equal(mayStillAppear(new Error('boom')), false);
    assert.equal(mayStillAppear(undefined), false);
  });

  it('waits until the broker lists the topic, through failed listings', async () => {
    const answers: Array<string[] | Error> = [[], new Error('metadata refresh failed'), ['other'], ['other', 'logs']];
    let calls = 0;
    const listTopics = async () => {
      const answer = answers[Math.min(calls++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    };
    assert.equal(await waitForTopic(listTopics, 'logs', 5_000, 1), true);
    assert.equal(calls, 4);
  });

  it('gives up after the timeout when the topic never shows, and looks once with no timeout', async () => {
    let calls = 0;
    const never = async () => {
      calls += 1;
      return ['other'];
    };
    assert.equal(await waitForTopic(never, 'logs', 30, 5), false);
    assert.ok(calls >= 2, `looked ${calls} times`);
    calls = 0;
    assert.equal(await waitForTopic(never, 'logs', 0), false);
    assert.equal(calls, 1);
  });
});
