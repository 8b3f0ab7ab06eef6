// A long-lived table: 300 commits over 50 hours of synthetic time with the checkpoint policy and log
// cleanup in effect. A fresh open reads _last_checkpoint, the checkpoint and the commits after it,
// and lists nothing (one listing from the checkpoint on S3); the log holds only what the retention
// keeps; delta-rs reads the same table.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { DeltaTable, openStorage, VersionNotFoundError } from '../../clients/delta/index.js';
import { deltaRsView, logSchema, makeLogTable } from '../helpers/deltalake.js';
import { deltaRsStorageOptions, logFileNames, storageCases, type StorageCase } from '../helpers/storages.js';
import { SyntheticTimeStorage } from '../helpers/syntheticTimeStorage.js';

const COMMITS = 300;
const STEP_MS = 10 * 60_000; // ten minutes of synthetic time per commit: 300 commits span 50 hours
const INTERVAL = 25;

for (const storage of storageCases) defineTests(storage);

function defineTests(storage: StorageCase): void {
  describe(`a table with a long log (${storage.name})`, () => {
    before(() => storage.ready());

    it('opens through _last_checkpoint reading only the tail, keeps only the retained log, and delta-rs reads it', async () => {
      const path = storage.scratch('delta-long-log');
      let nowMs = Date.parse('2025-01-01T00:00:00Z');
      const clock = () => nowMs;
      const files = new SyntheticTimeStorage(openStorage(path, storage.options), clock);
      const options = {
        ...storage.options,
        storage: files,
        clock,
        checkpointInterval: INTERVAL,
        checkpointMinIntervalSeconds: 0,
        logRetentionDays: 1,
      };
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      for (let commit = 1; commit <= COMMITS; commit++) {
        nowMs += STEP_MS;
        const outcome = await table.append(makeLogTable(2, { firstOffset: commit * 2, startMicros: BigInt(nowMs) * 1000n }), {
          txns: [{ appId: 'web-logs-0', version: commit }],
        });
        assert.equal(outcome.status, 'committed');
      }
      // Ten more commits: a tail after the newest checkpoint (300) for the fresh open to replay.
      for (let commit = COMMITS + 1; commit <= COMMITS + 10; commit++) {
        nowMs += STEP_MS;
        await table.append(makeLogTable(2, { firstOffset: commit * 2, startMicros: BigInt(nowMs) * 1000n }));
      }

      // The cleanup after the checkpoint at 300 ran at 50 h: the retention (1 day) reaches back to
      // commit 156, so the newest checkpoint before it (150) is the oldest version kept.
      const names = await logFileNames(storage, path);
      const commits = names.filter((name) => /^\d{20}\.json$/.test(name)).map((name) => Number(name.slice(0, 20)));
      const checkpoints = names.filter((name) => name.endsWith('.checkpoint.parquet')).map((name) => Number(name.slice(0, 20)));
      assert.equal(Math.min(...commits), 150, 'commits below the newest expired checkpoint are gone');
      assert.equal(commits.length, COMMITS + 10 - 150 + 1);
      assert.deepEqual(
        checkpoints.sort((a, b) => a - b),
        [150, 175, 200, 225, 250, 275, 300],
        `a checkpoint every ${INTERVAL} commits, none below the floor`,
      );
      assert.ok(!names.some((name) => name.startsWith('.tmp-')), 'no temp files left behind');

      const reader = new SyntheticTimeStorage(openStorage(path, storage.options), clock);
      reader.tracing = true;
      const snapshot = await (await DeltaTable.open(path, { ...storage.options, storage: reader })).snapshot();
      assert.equal(snapshot.version, COMMITS + 10);
      assert.equal(snapshot.numRows, (COMMITS + 10) * 2);
      assert.equal(snapshot.txnVersion('web-logs-0'), COMMITS);
      // Local disk: nothing is listed, the tail is read forward by name. S3: one listing, from the checkpoint on.
      const lists = reader.trace.filter((call) => call.startsWith('list '));
      if (storage.name === 'local') assert.deepEqual(lists, [], 'a fresh open lists nothing');
      else assert.deepEqual(lists, ['list _delta_log/ after _delta_log/00000000000000000300']);
      const reads = reader.trace.filter((call) => call.startsWith('read '));
      assert.equal(reads[0], 'read _delta_log/_last_checkpoint');
      assert.ok(reads.includes('read _delta_log/00000000000000000300.checkpoint.parquet'));
      const commitsRead = reads.filter((call) => call.endsWith('.json')).map((call) => Number(/(\d{20})\.json$/.exec(call)?.[1]));
      assert.ok(
        commitsRead.every((version) => version > COMMITS),
        `only commits after the checkpoint are read: ${reads.join(', ')}`,
      );
      assert.ok(commitsRead.length <= 2 * 10 + 8, `the tail of 10 commits costs a bounded number of reads: ${commitsRead.length}`);
      assert.equal(reads.length, 2 + commitsRead.length, `nothing else is read: ${reads.join(', ')}`);

      // A version inside the retention window is still readable; one below it is reported, not guessed.
      assert.equal((await table.snapshot({ version: 200 })).numRows, 200 * 2);
      await assert.rejects(table.snapshot({ version: 100 }), VersionNotFoundError);

      const theirs = deltaRsView(path, { storageOptions: deltaRsStorageOptions(storage) });
      assert.equal(theirs.version, COMMITS + 10);
      assert.equal(theirs.rows!.length, (COMMITS + 10) * 2);

      // A writer whose checkpoint disappears under it (cleaned up while it ran) still checkpoints:
      // it loads the latest state afresh, tombstones included.
      const writer = await DeltaTable.open(path, options);
      await files.delete('_delta_log/00000000000000000300.checkpoint.parquet');
      assert.equal((await writer.checkpoint({ cleanup: false })).version, COMMITS + 10);
      assert.equal((await (await DeltaTable.open(path, storage.options)).snapshot()).numRows, (COMMITS + 10) * 2);
    });
  });
}
