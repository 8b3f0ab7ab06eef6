import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctrlCStops } from '../../cli/commands/up.js';
import { statusLine } from '../../cli/up/statusLine.js';
import type { PipelineStatus } from '../../workflows/types.js';

describe('logstream up status line', () => {
  it('sums rows, rate and lag over streamers and shows the commit age and model', () => {
    const status: PipelineStatus = {
      state: 'running',
      desiredStreamers: 2,
      runningStreamers: 2,
      desiredModelVersion: 'champion',
      runsCompleted: 0,
      continuedAsNewCount: 0,
      streamers: [
        {
          slot: 0,
          state: 'running',
          rowsTotal: 1200,
          rowsPerSecond: 10.5,
          partitions: [
            { partition: 0, lag: 3 },
            { partition: 1, lag: 4 },
          ],
          lastCommitAt: '2026-01-01T00:00:08.000Z',
          modelVersion: '3',
        },
        {
          slot: 1,
          state: 'running',
          rowsTotal: 800,
          rowsPerSecond: 9.5,
          partitions: [{ partition: 2, lag: 1 }],
          lastCommitAt: '2026-01-01T00:00:05.000Z',
          modelVersion: '3',
        },
      ],
    };
    assert.equal(
      statusLine(status, new Date('2026-01-01T00:00:10.000Z')),
      '00:00:10  running  streamers 2/2  rows 2,000  20.0 rows/s  lag 8  last commit 2s ago  model 3',
    );
  });

  it('says the pipeline is starting before the first status', () => {
    assert.match(statusLine(undefined, new Date('2026-01-01T00:00:10.000Z')), /pipeline starting/);
  });
});

describe('logstream up says what Ctrl-C does', () => {
  it('stops the pipeline it started; leaves running one it only follows', () => {
    assert.equal(
      ctrlCStops(true, true),
      'Ctrl-C stops the generator, the pipeline (streamers commit their batch) and the worker, and pauses the schedules.',
    );
    const following = ctrlCStops(false, true);
    assert.match(following, /the pipeline keeps running/);
    assert.doesNotMatch(following, /stops the generator, the pipeline/);
    assert.doesNotMatch(ctrlCStops(false, false), /generator/);
  });
});
