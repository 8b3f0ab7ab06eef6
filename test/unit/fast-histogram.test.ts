// FastHistogram must be indistinguishable from prom-client's Histogram to whoever scrapes /metrics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../clients/metrics/fastHistogram.js';

const sortedLines = (text: string) => text.split('\n').filter(Boolean).sort();

describe('FastHistogram', () => {
  it('exports the same exposition text as a prom-client Histogram fed the same values', async () => {
    const buckets = [0.01, 0.1, 1, 10];
    const reference = new Registry();
    const fast = new Registry();
    const slow = new Histogram({
      name: 'test_latency_seconds',
      help: 'latency',
      labelNames: ['endpoint'] as const,
      buckets,
      registers: [reference],
    });
    const quick = new FastHistogram({
      name: 'test_latency_seconds',
      help: 'latency',
      labelNames: ['endpoint'] as const,
      buckets,
      registers: [fast],
    });
    const values = [0, 0.01, 0.011, 0.5, 1, 3, 10, 10.5, 1e6];
    for (const [index, value] of values.entries()) {
      const endpoint = index % 2 ? '/a' : '/b/{id}';
      slow.labels(endpoint).observe(value);
      quick.labels(endpoint).observe(value);
    }
    assert.deepEqual(sortedLines(await fast.metrics()), sortedLines(await reference.metrics()));
    assert.match(await fast.metrics(), /test_latency_seconds_bucket\{le="\+Inf",endpoint="\/a"\} 4/);
  });

  it('works without labels, refuses a wrong label count, and starts over on reset', async () => {
    const registry = new Registry();
    const histogram = new FastHistogram({ name: 'test_score', help: 'score', buckets: [1, 2], registers: [registry] });
    histogram.observe(1.5);
    assert.match(await registry.metrics(), /test_score_count 1/);
    assert.throws(() => histogram.labels('x'), /takes labels/);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /test_score_count/);
  });
});
