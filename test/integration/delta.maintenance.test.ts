// OPTIMIZE against concurrent writers, expired-log cleanup, checkpoint forms and time travel by
// timestamp, on local disk and on the stack's S3 store (file times can only be set on local disk).
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CommitConflictError, DeltaTable } from '../../clients/delta/index.js';
import { optimize } from '../../clients/delta/optimize.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { loadState } from '../../clients/delta/snapshotLoader.js';
import { stateToCheckpointTable } from '../../clients/delta/checkpoint.js';
import { encodeParquet } from '../../clients/delta/parquet.js';
import { versionName } from '../../clients/delta/log.js';
import { deltaRsView, logSchema, makeLogTable, sortRows } from '../helpers/deltalake.js';
import { deltaRsStorageOptions, localCase, logFileNames, storageCases, storageOf, type StorageCase } from '../helpers/storages.js';

for (const storage of storageCases) defineTests(storage);

function defineTests(storage: StorageCase): void {
  const { options } = storage;
  const theirs = (path: string) => deltaRsView(path, { storageOptions: deltaRsStorageOptions(storage) });

  async function tableWithSmallFiles(files: number): Promise<{ path: string; table: DeltaTable }> {
    const path = storage.scratch('delta-maintenance');
    const table = await DeltaTable.create(
      path,
      logSchema,
      { partitionColumns: ['date', 'hour'] },
      { ...options, checkpointInterval: 1000 },
    );
    for (let index = 0; index < files; index++) await table.append(makeLogTable(50, { firstOffset: index * 50, stepMicros: 1000n }));
    return { path, table };
  }

  describe(`OPTIMIZE with concurrent writers (${storage.name})`, () => {
    before(() => storage.ready());

    it('succeeds on retry when a concurrent commit only added files', async () => {
      const { path, table } = await tableWithSmallFiles(6);
      const stale = await loadState(table.storage, path);
      const writer = await DeltaTable.open(path, options);
      await writer.append(makeLogTable(50, { firstOffset: 10_000, stepMicros: 1000n })); // wins version 7
      const result = await optimize(table.storage, path, stale.state, { targetSizeBytes: 64 * 1024 * 1024 });
      assert.equal(result.version, 8, 'committed after the concurrent append');
      assert.equal(result.filesRemoved, 6);
      const snapshot = await (await DeltaTable.open(path, options)).snapshot();
      assert.equal(snapshot.fileCount, 2, 'the compacted file and the concurrently added one');
      assert.equal(snapshot.numRows, 350);
      assert.deepEqual(sortRows(tableToJsonRows(await snapshot.scan())), sortRows(theirs(path).rows!));
    });

    it('fails cleanly when a concurrent commit removed the same files', async () => {
      const { path, table } = await tableWithSmallFiles(4);
      const stale = await loadState(table.storage, path);
      const rival = await DeltaTable.open(path, options);
      await rival.optimize({ targetSizeBytes: 64 * 1024 * 1024 }); // removes the same four files first
      await assert.rejects(
        optimize(table.storage, path, stale.state, { targetSizeBytes: 64 * 1024 * 1024 }),
        (error: Error) => error instanceof CommitConflictError && /removed concurrently/.test(error.message),
      );
      const snapshot = await (await DeltaTable.open(path, options)).snapshot();
      assert.equal(snapshot.version, 5, 'no commit from the losing OPTIMIZE');
      assert.equal(snapshot.numRows, 200);
    });
  });

  describe(`log retention and time travel (${storage.name})`, () => {
    before(() => storage.ready());

    it('deletes expired commits below an expired checkpoint and keeps the table readable', async () => {
      const path = storage.scratch('delta-retention');
      const table = await DeltaTable.create(
        path,
        logSchema,
        { partitionColumns: ['date', 'hour'] },
        { ...options, checkpointInterval: 5, logRetentionDays: 30 },
      );
      for (let index = 0; index < 5; index++) await table.append(makeLogTable(10, { firstOffset: index * 10 })); // checkpoint at 5
      for (let index = 5; index < 8; index++) await table.append(makeLogTable(10, { firstOffset: index * 10 }));
      if (storage === localCase) {
        // Commits 0-5 (and the checkpoint at 5) are 40 days old, 6-8 new; the checkpoint at 8 then cleans up.
        const log = join(path, '_delta_log');
        const old = Date.now() / 1000 - 40 * 86_400;
        for (const name of await logFileNames(storage, path)) if (/^0{19}[0-5]\./.test(name)) utimesSync(join(log, name), old, old);
        assert.equal((await table.checkpoint()).logFilesDeleted, 5, 'commits 0-4 are below the expired checkpoint at 5');
      } else {
        // Object times cannot be set: clean up as if 40 days had passed, with the checkpoint at 5 the newest.
        assert.equal(await table.cleanupLog(Date.now() + 40 * 86_400_000), 5, 'commits 0-4 are below the expired checkpoint at 5');
      }
      const remaining = (await logFileNames(storage, path)).filter((name) => name.endsWith('.json')).sort();
      assert.equal(remaining[0], '00000000000000000005.json');
      const snapshot = await (await DeltaTable.open(path, options)).snapshot();
      assert.equal(snapshot.numRows, 80);
      assert.equal(theirs(path).rows!.length, 80);
      await assert.rejects((await DeltaTable.open(path, options)).snapshot({ version: 2 }), /not available/);
    });

    it('reads the version current at a timestamp', { skip: storage !== localCase && 'object times cannot be set' }, async () => {
      const path = storage.scratch('delta-as-of');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] });
      for (let index = 0; index < 3; index++) await table.append(makeLogTable(10, { firstOffset: index * 10 }));
      const base = Date.parse('2025-06-01T00:00:00Z') / 1000;
      for (let version = 0; version <= 3; version++)
        utimesSync(join(path, '_delta_log', `${String(version).padStart(20, '0')}.json`), base + version * 60, base + version * 60);
      const at = await table.snapshot({ timestampMs: Date.parse('2025-06-01T00:02:30Z') });
      assert.equal(at.version, 2);
      assert.equal(at.numRows, 20);
      await assert.rejects(table.snapshot({ timestampMs: Date.parse('2025-05-01T00:00:00Z') }), /not available/);
    });

    it('reads the latest version at the current time and refuses a time before the table', async () => {
      const path = storage.scratch('delta-as-of-now');
      const table = await DeltaTable.create(path, logSchema, {}, options);
      await table.append(makeLogTable(10));
      assert.equal((await table.snapshot({ timestampMs: Date.now() + 1000 })).version, 1);
      await assert.rejects(table.snapshot({ timestampMs: Date.now() - 86_400_000 }), /not available/);
    });
  });

  describe(`checkpoint forms (${storage.name})`, () => {
    before(() => storage.ready());

    it('reads a multi-part checkpoint, with and without _last_checkpoint, as delta-rs does', async () => {
      const path = storage.scratch('delta-multipart-checkpoint');
      const table = await DeltaTable.create(
        path,
        logSchema,
        { partitionColumns: ['date', 'hour'] },
        { ...options, checkpointInterval: 1000 },
      );
      for (let index = 0; index < 6; index++)
        await table.append(makeLogTable(30, { firstOffset: index * 30, stepMicros: 60_000_000n }), {
          txns: [{ appId: 'p', version: index }],
        });
      const { state } = await loadState(table.storage, path);
      const checkpoint = stateToCheckpointTable(state);
      const half = Math.ceil(checkpoint.numRows / 2);
      const files = storageOf(storage, path);
      await files.put(`_delta_log/${versionName(6)}.checkpoint.0000000001.0000000002.parquet`, encodeParquet(checkpoint.slice(0, half)));
      await files.put(`_delta_log/${versionName(6)}.checkpoint.0000000002.0000000002.parquet`, encodeParquet(checkpoint.slice(half)));
      await files.put('_delta_log/_last_checkpoint', JSON.stringify({ version: 6, size: checkpoint.numRows, parts: 2 }));
      for (let version = 0; version < 6; version++) await files.delete(`_delta_log/${versionName(version)}.json`); // only the checkpoint can rebuild version 6
      const writer = await DeltaTable.open(path, options);
      for (let index = 6; index < 8; index++)
        await writer.append(makeLogTable(30, { firstOffset: index * 30, stepMicros: 60_000_000n }), {
          txns: [{ appId: 'p', version: index }],
        });
      for (const withHint of [true, false]) {
        if (!withHint) await files.delete('_delta_log/_last_checkpoint');
        const snapshot = await (await DeltaTable.open(path, options)).snapshot();
        assert.equal(snapshot.version, 8);
        assert.equal(snapshot.txnVersion('p'), 7);
        const ours = tableToJsonRows(await snapshot.scan());
        assert.equal(ours.length, 240);
        const view = theirs(path);
        assert.equal(view.version, 8);
        assert.deepEqual(sortRows(ours), sortRows(view.rows!));
      }
    });
  });
}

for (const storage of storageCases) {
  describe(`a damaged checkpoint (${storage.name})`, () => {
    before(() => storage.ready());

    it('is passed over for an older one with a warning: a crash that truncated it loses nothing', async () => {
      const path = storage.scratch('delta-damaged-checkpoint');
      const table = await DeltaTable.create(
        path,
        logSchema,
        { partitionColumns: ['date', 'hour'] },
        { ...storage.options, checkpointInterval: 2, checkpointMinIntervalSeconds: 0 },
      );
      for (let index = 0; index < 5; index++) await table.append(makeLogTable(20, { firstOffset: index * 20, stepMicros: 1000n }));
      const checkpoint = `_delta_log/${versionName(4)}.checkpoint.parquet`;
      assert.ok(await storageOf(storage, path).stat(checkpoint), 'a checkpoint at version 4');
      await storageOf(storage, path).put(checkpoint, 'PAR1 truncated by a crash');
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.message);
      process.on('warning', onWarning);
      try {
        const snapshot = await (await DeltaTable.open(path, storage.options)).snapshot();
        assert.equal(snapshot.version, 5);
        assert.equal(snapshot.numRows, 100);
        const written = [0, 1, 2, 3, 4].flatMap((index) =>
          tableToJsonRows(makeLogTable(20, { firstOffset: index * 20, stepMicros: 1000n })),
        );
        assert.deepEqual(sortRows(tableToJsonRows(await snapshot.scan())), sortRows(written));
      } finally {
        await new Promise((resolve) => setImmediate(resolve));
        process.off('warning', onWarning);
      }
      assert.ok(
        warnings.some((message) => message.includes('checkpoint 4 cannot be read') && message.includes('checkpoint 2')),
        warnings.join('\n'),
      );
    });
  });
}
