// The pure rules that keep a long-lived table fast: when a checkpoint is due, what log cleanup may
// delete, and how tombstones a snapshot load left out are merged back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointDue, checkpointPolicy, DEFAULT_CHECKPOINT_POLICY, type LogTail } from '../../clients/delta/checkpointPolicy.js';
import { configSchema } from '../../config/schema.js';
import { checkpointFilesOf, classifyLogFiles, type CheckpointFiles } from '../../clients/delta/log.js';
import { applyActions, emptyState, liveActionCount, mergeTombstones } from '../../clients/delta/replay.js';
import { expiredCheckpointFloor, planLogCleanup } from '../../clients/delta/vacuum.js';

const policy = checkpointPolicy({
  interval: 100,
  actionsPerTailCommit: 50,
  maxTailCommits: 1000,
  maxTailBytes: 1_000_000,
  minIntervalMs: 30_000,
});
const tail = (overrides: Partial<LogTail>): LogTail => ({
  commits: 0,
  bytes: 0,
  liveActions: 10,
  sinceCheckpointMs: Number.POSITIVE_INFINITY,
  ...overrides,
});

describe('checkpoint policy', () => {
  it('is due after `interval` commits on a small table, and not before', () => {
    assert.equal(checkpointDue(tail({ commits: 99 }), policy), undefined);
    assert.equal(checkpointDue(tail({ commits: 100 }), policy), 'interval');
    assert.equal(checkpointDue(tail({ commits: 0, bytes: 5_000_000 }), policy), undefined, 'nothing to checkpoint without a tail');
  });

  it('waits for a tail in proportion to the live actions a checkpoint rewrites', () => {
    // 20,000 files and tombstones at 50 per tail commit: 400 commits, so a checkpoint writes ≤ 50 actions per commit.
    assert.equal(checkpointDue(tail({ commits: 399, liveActions: 20_000 }), policy), undefined);
    assert.equal(checkpointDue(tail({ commits: 400, liveActions: 20_000 }), policy), 'interval');
  });

  it('bounds the tail a snapshot load reads whatever the table size, in commits and in bytes', () => {
    assert.equal(checkpointDue(tail({ commits: 999, liveActions: 10_000_000 }), policy), undefined);
    assert.equal(checkpointDue(tail({ commits: 1000, liveActions: 10_000_000 }), policy), 'max-tail-commits');
    assert.equal(checkpointDue(tail({ commits: 3, bytes: 1_000_000 }), policy), 'max-tail-bytes', 'an OPTIMIZE commit of many files');
  });

  it('holds a due checkpoint back for the minimum interval unless the tail reached its bounds', () => {
    assert.equal(checkpointDue(tail({ commits: 150, sinceCheckpointMs: 10_000 }), policy), undefined);
    assert.equal(checkpointDue(tail({ commits: 150, sinceCheckpointMs: 30_000 }), policy), 'interval');
    assert.equal(checkpointDue(tail({ commits: 1000, sinceCheckpointMs: 1 }), policy), 'max-tail-commits');
    assert.equal(checkpointDue(tail({ commits: 5, bytes: 2_000_000, sinceCheckpointMs: 1 }), policy), 'max-tail-bytes');
  });

  it('honours the table property delta.checkpointInterval exactly, as Delta Spark does', () => {
    assert.equal(checkpointDue(tail({ commits: 9, liveActions: 50_000 }), policy, 10), undefined);
    assert.equal(checkpointDue(tail({ commits: 10, liveActions: 50_000, sinceCheckpointMs: 1 }), policy, 10), 'table-property');
    assert.equal(checkpointDue(tail({ commits: 2, bytes: 1_000_000 }), policy, 10), 'max-tail-bytes');
  });

  it('has the defaults the configuration documents', () => {
    const { delta } = configSchema.parse({});
    assert.deepEqual(
      checkpointPolicy({
        interval: delta.checkpoint_interval,
        minIntervalMs: delta.checkpoint_min_interval_seconds * 1000,
        maxTailCommits: delta.checkpoint_max_tail_commits,
        maxTailBytes: delta.checkpoint_max_tail_mb * 1024 * 1024,
      }),
      DEFAULT_CHECKPOINT_POLICY,
    );
  });

  it('takes the defaults for options that are not set', () => {
    assert.deepEqual(checkpointPolicy({}), DEFAULT_CHECKPOINT_POLICY);
    assert.equal(checkpointPolicy({ interval: 7, minIntervalMs: undefined }).interval, 7);
    assert.equal(checkpointPolicy({ minIntervalMs: 0 }).minIntervalMs, 0);
  });
});

describe('log cleanup plan', () => {
  const file = (name: string) => ({ path: `_delta_log/${name}`, sizeBytes: 1, modifiedMs: Number.NaN });
  const listing = classifyLogFiles([
    file('00000000000000000000.json'),
    file('00000000000000000001.json'),
    file('00000000000000000002.json'),
    file('00000000000000000002.checkpoint.parquet'),
    file('00000000000000000003.json'),
    file('00000000000000000004.json'),
    file('00000000000000000004.checkpoint.0000000001.0000000002.parquet'),
    file('00000000000000000004.checkpoint.0000000002.0000000002.parquet'),
    file('00000000000000000005.json'),
    file('00000000000000000006.json'),
    file('00000000000000000006.checkpoint.parquet'),
    file('_last_checkpoint'),
  ]);

  it('deletes only what is below the newest expired checkpoint, which stays with its commit', () => {
    assert.deepEqual(planLogCleanup(listing, 4), [
      '_delta_log/00000000000000000000.json',
      '_delta_log/00000000000000000001.json',
      '_delta_log/00000000000000000002.json',
      '_delta_log/00000000000000000003.json',
      '_delta_log/00000000000000000002.checkpoint.parquet',
    ]);
    assert.deepEqual(planLogCleanup(listing, undefined), [], 'no expired checkpoint: nothing may go');
  });

  it('finds the newest checkpoint past the retention with a few reads of commit times', async () => {
    const times = new Map([
      [2, 1_000],
      [4, 2_000],
      [6, 9_000],
    ]);
    const reads: number[] = [];
    const timeOf = async (checkpoint: CheckpointFiles) => {
      reads.push(checkpoint.version);
      return times.get(checkpoint.version);
    };
    assert.equal(await expiredCheckpointFloor(listing.checkpoints, 5_000, timeOf), 4);
    assert.equal(await expiredCheckpointFloor(listing.checkpoints, 500, timeOf), undefined);
    assert.equal(await expiredCheckpointFloor(listing.checkpoints, 10_000, timeOf), 6);

    const many = Array.from({ length: 1000 }, (_, index): CheckpointFiles => ({ version: index * 100, paths: [] }));
    reads.length = 0;
    const floor = await expiredCheckpointFloor(many, 61_234, async (checkpoint) => {
      reads.push(checkpoint.version);
      return checkpoint.version; // a version's commit time grows with it
    });
    assert.equal(floor, 61_200);
    assert.ok(reads.length <= 11, `binary search, not a scan: ${reads.length} reads`);
  });

  it('names the files of the checkpoint a _last_checkpoint hint points at', () => {
    assert.deepEqual(checkpointFilesOf({ version: 12 }).paths, ['_delta_log/00000000000000000012.checkpoint.parquet']);
    assert.deepEqual(checkpointFilesOf({ version: 4, parts: 2 }).paths, listing.checkpoints.find((c) => c.version === 4)!.paths);
  });
});

describe('tombstones left out of a snapshot load', () => {
  it('merge back without undoing what later commits did to the same paths', () => {
    const state = emptyState();
    applyActions(state, 5, [{ add: { path: 'kept', partitionValues: {}, size: 1, modificationTime: 0, dataChange: true } }]);
    state.tombstoneSource = { version: 5, paths: [], count: 3 };
    applyActions(state, 6, [
      { add: { path: 'readded', partitionValues: {}, size: 1, modificationTime: 0, dataChange: true } },
      { remove: { path: 'removed-again', deletionTimestamp: 60, dataChange: true } },
    ]);
    assert.equal(liveActionCount(state), 2 + 2 + 1 + 3, 'unread tombstones count toward the checkpoint size');
    mergeTombstones(state, [
      { path: 'old', deletionTimestamp: 10, dataChange: true },
      { path: 'readded', deletionTimestamp: 10, dataChange: true },
      { path: 'removed-again', deletionTimestamp: 10, dataChange: true },
    ]);
    assert.equal(state.tombstoneSource, undefined);
    assert.deepEqual([...state.tombstones.keys()].sort(), ['old', 'removed-again']);
    assert.equal(state.tombstones.get('removed-again')!.deletionTimestamp, 60, 'the later remove wins');
  });
});
