// Log replay, conflict rules, log listing and maintenance planning: pure parts of the Delta engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Action, AddFile } from '../../clients/delta/actions.js';
import { parseCommit, serializeCommit } from '../../clients/delta/actions.js';
import { refusedTxns, judgeWinningCommit } from '../../clients/delta/conflicts.js';
import { unsupportedReaderFeature, unsupportedWriterFeature } from '../../clients/delta/features.js';
import { classifyLogFiles, commitPath } from '../../clients/delta/log.js';
import { planOptimize } from '../../clients/delta/optimize.js';
import { applyActions, emptyState, parseIntervalMs, replay } from '../../clients/delta/replay.js';
import { resolveVersion } from '../../clients/delta/snapshotLoader.js';
import { isHidden, planVacuum, staleLogTempFiles } from '../../clients/delta/vacuum.js';

const add = (path: string, size = 100, partitionValues: Record<string, string | null> = {}): AddFile => ({
  path,
  partitionValues,
  size,
  modificationTime: 0,
  dataChange: true,
});
const metaData: Action = {
  metaData: { id: 'x', format: { provider: 'parquet' }, schemaString: '{"type":"struct","fields":[]}', partitionColumns: [] },
};

describe('log replay', () => {
  it('reconciles adds and removes across versions, last action wins', () => {
    const state = replay([
      { version: 0, actions: [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, metaData, { add: add('a') }, { add: add('b') }] },
      { version: 1, actions: [{ remove: { path: 'a', deletionTimestamp: 5, dataChange: true } }, { add: add('c') }] },
      { version: 2, actions: [{ add: add('a', 200) }] },
    ]);
    assert.equal(state.version, 2);
    assert.deepEqual([...state.files.keys()].sort(), ['a', 'b', 'c']);
    assert.equal(state.files.get('a')!.size, 200);
    assert.equal(state.tombstones.size, 0, 're-adding a path clears its tombstone');
  });

  it('keeps removed files as tombstones and matches encoded and decoded paths', () => {
    const state = replay([
      { version: 0, actions: [{ add: add('k=a%20b/x.parquet') }] },
      { version: 1, actions: [{ remove: { path: 'k=a b/x.parquet', dataChange: true } }] },
    ]);
    assert.equal(state.files.size, 0);
    assert.deepEqual([...state.tombstones.keys()], ['k=a b/x.parquet']);
  });

  it('keeps the latest txn per appId and the latest protocol and metadata', () => {
    const state = emptyState();
    applyActions(state, 0, [{ txn: { appId: 'p0', version: 10 } }, { txn: { appId: 'p1', version: 3 } }, metaData]);
    applyActions(state, 1, [{ txn: { appId: 'p0', version: 25 } }, { protocol: { minReaderVersion: 1, minWriterVersion: 2 } }]);
    assert.equal(state.txns.get('p0')!.version, 25);
    assert.equal(state.txns.get('p1')!.version, 3);
    assert.equal(state.protocol!.minWriterVersion, 2);
    assert.equal(state.metadata!.id, 'x');
  });

  it('round-trips commit files as newline-delimited JSON', () => {
    const actions: Action[] = [{ commitInfo: { operation: 'WRITE' } }, { add: add('p') }];
    assert.deepEqual(parseCommit(serializeCommit(actions)), actions);
  });

  it('parses delta retention intervals', () => {
    assert.equal(parseIntervalMs('interval 7 days', 0), 7 * 86_400_000);
    assert.equal(parseIntervalMs('interval 1 hour', 0), 3_600_000);
    assert.equal(parseIntervalMs('garbage', 42), 42);
  });
});

describe('protocol features', () => {
  it('reads protocol 1 tables and refuses deletion vectors, column mapping and future readers by name', () => {
    assert.equal(unsupportedReaderFeature({ minReaderVersion: 1, minWriterVersion: 2 }, undefined), undefined);
    assert.equal(
      unsupportedReaderFeature({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'] }, undefined),
      'deletionVectors',
    );
    assert.equal(
      unsupportedReaderFeature({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'] }, undefined),
      undefined,
    );
    const mapped = {
      id: 'x',
      format: { provider: 'parquet' },
      schemaString: '{}',
      partitionColumns: [],
      configuration: { 'delta.columnMapping.mode': 'name' },
    };
    assert.equal(unsupportedReaderFeature({ minReaderVersion: 2, minWriterVersion: 5 }, mapped), 'columnMapping');
    assert.equal(unsupportedReaderFeature({ minReaderVersion: 4, minWriterVersion: 7 }, undefined), 'minReaderVersion 4');
    assert.equal(unsupportedWriterFeature({ minReaderVersion: 1, minWriterVersion: 3 }, undefined), 'checkConstraints');
    assert.equal(unsupportedWriterFeature({ minReaderVersion: 1, minWriterVersion: 2 }, undefined), undefined);
  });
});

describe('conflict rules', () => {
  const pending = { txns: [{ appId: 'p0', version: 100 }], removedKeys: new Set<string>(), changesMetadata: false };

  it('lets blind appends retry after other appends', () => {
    assert.deepEqual(judgeWinningCommit(pending, [{ add: add('other') }, { txn: { appId: 'p1', version: 500 } }]), { kind: 'retry' });
  });

  it('leaves txn preconditions to the caller, who checks them against the state that includes the winner', () => {
    assert.deepEqual(judgeWinningCommit(pending, [{ txn: { appId: 'p0', version: 100 } }]), { kind: 'retry' });
  });

  it('refuses a txn whose version the table already holds, or a later one', () => {
    assert.deepEqual(refusedTxns(pending.txns, new Map([['p0', { appId: 'p0', version: 100 }]])), [
      { appId: 'p0', committedVersion: 100, reason: 'already-committed' },
    ]);
    assert.deepEqual(refusedTxns(pending.txns, [{ appId: 'p0', version: 120 }]), [
      { appId: 'p0', committedVersion: 120, reason: 'already-committed' },
    ]);
    assert.deepEqual(refusedTxns(pending.txns, new Map([['p0', { appId: 'p0', version: 99 }]])), []);
  });

  it('refuses a batch unless the table is exactly at the version it continues from, and names every refused txn', () => {
    const txns = [
      { appId: 'p0', version: 461, expectedVersion: 145 },
      { appId: 'p1', version: 90, expectedVersion: 40 },
      { appId: 'p2', version: 30, expectedVersion: -1 },
    ];
    // p0: a rival streamer committed 146..298, so committing 146..461 would double them.
    // p1: the table is behind the batch's start, so committing 41..90 would leave a gap nobody fills.
    // p2: the batch believes the partition was never written; a rival's first commit must not be followed.
    const table = new Map([
      ['p0', { appId: 'p0', version: 298 }],
      ['p1', { appId: 'p1', version: 12 }],
      ['p2', { appId: 'p2', version: 3 }],
    ]);
    assert.deepEqual(refusedTxns(txns, table), [
      { appId: 'p0', committedVersion: 298, reason: 'moved' },
      { appId: 'p1', committedVersion: 12, reason: 'moved' },
      { appId: 'p2', committedVersion: 3, reason: 'moved' },
    ]);
    assert.deepEqual(
      refusedTxns(txns, [
        { appId: 'p0', version: 145 },
        { appId: 'p1', version: 40 },
      ]),
      [],
    );
  });

  it('fails an OPTIMIZE whose files were removed concurrently, and any commit racing a schema change', () => {
    const optimize = { txns: [], removedKeys: new Set(['a']), changesMetadata: false };
    assert.equal(judgeWinningCommit(optimize, [{ add: add('new') }]).kind, 'retry');
    assert.equal(judgeWinningCommit(optimize, [{ remove: { path: 'a', dataChange: false } }]).kind, 'conflict');
    assert.equal(judgeWinningCommit(pending, [metaData]).kind, 'conflict');
  });
});

describe('log listing', () => {
  const file = (name: string, modifiedMs = 0) => ({ path: `_delta_log/${name}`, sizeBytes: 1, modifiedMs });

  it('finds commits and only complete single- and multi-part checkpoints', () => {
    const listing = classifyLogFiles([
      file('00000000000000000000.json'),
      file('00000000000000000001.json'),
      file('00000000000000000002.json'),
      file('00000000000000000001.checkpoint.parquet'),
      file('00000000000000000002.checkpoint.0000000001.0000000002.parquet'),
      file('00000000000000000002.checkpoint.0000000002.0000000002.parquet'),
      file('00000000000000000003.checkpoint.0000000001.0000000002.parquet'),
      file('_last_checkpoint'),
      file('.tmp-123'),
      file('00000000000000000002.crc'),
    ]);
    assert.deepEqual(
      listing.commits.map((commit) => commit.version),
      [0, 1, 2],
    );
    assert.deepEqual(
      listing.checkpoints.map((checkpoint) => [checkpoint.version, checkpoint.paths.length]),
      [
        [1, 1],
        [2, 2],
      ],
    );
    assert.equal(commitPath(12), '_delta_log/00000000000000000012.json');
  });

  it('resolves versions and timestamps', () => {
    const listing = classifyLogFiles([
      file('00000000000000000000.json', 1000),
      file('00000000000000000001.json', 2000),
      file('00000000000000000002.json', 3000),
    ]);
    assert.equal(resolveVersion('t', listing, {}), 2);
    assert.equal(resolveVersion('t', listing, { version: 1 }), 1);
    assert.equal(resolveVersion('t', listing, { timestampMs: 2500 }), 1);
    assert.throws(() => resolveVersion('t', listing, { timestampMs: 500 }), /not available/);
    assert.throws(() => resolveVersion('t', listing, { version: 7 }), /version 7 is not available/);
  });
});

describe('maintenance planning', () => {
  it('bin-packs small files per partition and leaves single and large files alone', () => {
    const files = [
      add('d=1/a', 40, { d: '1' }),
      add('d=1/b', 40, { d: '1' }),
      add('d=1/c', 40, { d: '1' }),
      add('d=2/a', 40, { d: '2' }),
      add('d=1/big', 500, { d: '1' }),
    ];
    const bins = planOptimize(files, 100);
    assert.deepEqual(
      bins.map((bin) => bin.map((file) => file.path)),
      [['d=1/a', 'd=1/b']],
    );
    assert.deepEqual(
      planOptimize(files, 1000).map((bin) => bin.length),
      [4],
    );
  });

  it('vacuums only unreferenced files older than the retention, keeping recent tombstones', () => {
    const state = replay([
      {
        version: 0,
        actions: [
          { add: add('live.parquet') },
          { remove: { path: 'recent.parquet', deletionTimestamp: 9_000, dataChange: true } },
          { remove: { path: 'old.parquet', deletionTimestamp: 1_000, dataChange: true } },
        ],
      },
    ]);
    const stored = [
      'live.parquet',
      'recent.parquet',
      'old.parquet',
      'orphan.parquet',
      'young.parquet',
      '_delta_log/00000000000000000000.json',
      '.hidden.crc',
      'date=2024-01-01/x.parquet',
    ].map((path) => ({ path, sizeBytes: 1, modifiedMs: path === 'young.parquet' ? 9_500 : 500 }));
    assert.deepEqual(
      planVacuum(stored, state, 10_000, 5_000).map((file) => file.path),
      ['old.parquet', 'orphan.parquet', 'date=2024-01-01/x.parquet'],
    );
    assert.equal(isHidden('_change_data/x.parquet'), true);
    assert.equal(isHidden('date=2024-01-01/.tmp-123'), false, "a killed writer's temp file is VACUUM's to remove");
    assert.equal(isHidden('date=2024-01-01/.part-0.parquet.crc'), true);
    assert.deepEqual(
      staleLogTempFiles(
        [
          { path: '_delta_log/.tmp-1', sizeBytes: 1, modifiedMs: 10 },
          { path: '_delta_log/.tmp-2', sizeBytes: 1, modifiedMs: 500 },
          { path: '_delta_log/00000000000000000001.json', sizeBytes: 1, modifiedMs: 1 },
        ],
        100,
      ),
      ['_delta_log/.tmp-1'],
    );
    assert.equal(isHidden('date=2024-01-01/part-0.parquet'), false);
  });
});
