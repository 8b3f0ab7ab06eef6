// OPTIMIZE against concurrent writers, expired-log cleanup and time travel by timestamp, on real files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommitConflictError, DeltaTable } from '../../clients/delta/index.js';
import { optimize } from '../../clients/delta/optimize.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { loadState } from '../../clients/delta/snapshotLoader.js';
import { stateToCheckpointTable } from '../../clients/delta/checkpoint.js';
import { encodeParquet } from '../../clients/delta/parquet.js';
import { versionName } from '../../clients/delta/log.js';
import { deltaRsView, logSchema, makeLogTable, sortRows } from '../helpers/deltalake.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'logstream-delta-maintenance-'));

async function tableWithSmallFiles(files: number): Promise<{ path: string; table: DeltaTable }> {
  const path = join(scratch(), 'logs');
  const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, { checkpointInterval: 1000 });
  for (let index = 0; index < files; index++) await table.append(makeLogTable(50, { firstOffset: index * 50, stepMicros: 1000n }));
  return { path, table };
}

describe('OPTIMIZE with concurrent writers', () => {
  it('succeeds on retry when a concurrent commit only added files', async () => {
    const { path, table } = await tableWithSmallFiles(6);
    const stale = await loadState(table.storage, path);
    const writer = await DeltaTable.open(path);
    await writer.append(makeLogTable(50, { firstOffset: 10_000, stepMicros: 1000n })); // wins version 7
    const result = await optimize(table.storage, path, stale.state, { targetSizeBytes: 64 * 1024 * 1024 });
    assert.equal(result.version, 8, 'committed after the concurrent append');
    assert.equal(result.filesRemoved, 6);
    const snapshot = await (await DeltaTable.open(path)).snapshot();
    assert.equal(snapshot.fileCount, 2, 'the compacted file and the concurrently added one');
    assert.equal(snapshot.numRows, 350);
    assert.deepEqual(sortRows(tableToJsonRows(await snapshot.scan())), sortRows(deltaRsView(path).rows!));
  });

  it('fails cleanly when a concurrent commit removed the same files', async () => {
    const { path, table } = await tableWithSmallFiles(4);
    const stale = await loadState(table.storage, path);
    const rival = await DeltaTable.open(path);
    await rival.optimize({ targetSizeBytes: 64 * 1024 * 1024 }); // removes the same four files first
    await assert.rejects(
      optimize(table.storage, path, stale.state, { targetSizeBytes: 64 * 1024 * 1024 }),
      (error: Error) => error instanceof CommitConflictError && /removed concurrently/.test(error.message),
    );
    const snapshot = await (await DeltaTable.open(path)).snapshot();
    assert.equal(snapshot.version, 5, 'no commit from the losing OPTIMIZE');
    assert.equal(snapshot.numRows, 200);
  });
});

describe('log retention and time travel', () => {
  it('deletes expired commits below an expired checkpoint and keeps the table readable', async () => {
    const path = join(scratch(), 'logs');
    const table = await DeltaTable.create(
      path,
      logSchema,
      { partitionColumns: ['date', 'hour'] },
      { checkpointInterval: 5, logRetentionDays: 30 },
    );
    for (let index = 0; index < 5; index++) await table.append(makeLogTable(10, { firstOffset: index * 10 })); // checkpoint at 5
    for (let index = 5; index < 8; index++) await table.append(makeLogTable(10, { firstOffset: index * 10 }));
    const log = join(path, '_delta_log');
    const old = Date.now() / 1000 - 40 * 86_400;
    for (const name of readdirSync(log)) if (/^0{19}[0-5]\./.test(name)) utimesSync(join(log, name), old, old);
    const result = await table.checkpoint(); // checkpoint at 8, then cleanup
    assert.equal(result.logFilesDeleted, 5, 'commits 0-4 are below the expired checkpoint at 5');
    const remaining = readdirSync(log)
      .filter((name) => name.endsWith('.json'))
      .sort();
    assert.equal(remaining[0], '00000000000000000005.json');
    const snapshot = await (await DeltaTable.open(path)).snapshot();
    assert.equal(snapshot.numRows, 80);
    assert.equal(deltaRsView(path).rows!.length, 80);
    await assert.rejects((await DeltaTable.open(path)).snapshot({ version: 2 }), /not available/);
  });

  it('reads the version current at a timestamp', async () => {
    const path = join(scratch(), 'logs');
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
});

describe('checkpoint forms', () => {
  it('reads a multi-part checkpoint, with and without _last_checkpoint, as delta-rs does', async () => {
    const path = join(scratch(), 'logs');
    const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, { checkpointInterval: 1000 });
    for (let index = 0; index < 6; index++)
      await table.append(makeLogTable(30, { firstOffset: index * 30, stepMicros: 60_000_000n }), {
        txns: [{ appId: 'p', version: index }],
      });
    const { state } = await loadState(table.storage, path);
    const checkpoint = stateToCheckpointTable(state);
    const half = Math.ceil(checkpoint.numRows / 2);
    const log = join(path, '_delta_log');
    writeFileSync(join(log, `${versionName(6)}.checkpoint.0000000001.0000000002.parquet`), encodeParquet(checkpoint.slice(0, half)));
    writeFileSync(join(log, `${versionName(6)}.checkpoint.0000000002.0000000002.parquet`), encodeParquet(checkpoint.slice(half)));
    writeFileSync(join(log, '_last_checkpoint'), JSON.stringify({ version: 6, size: checkpoint.numRows, parts: 2 }));
    for (let version = 0; version < 6; version++) rmSync(join(log, `${versionName(version)}.json`)); // only the checkpoint can rebuild version 6
    const writer = await DeltaTable.open(path);
    for (let index = 6; index < 8; index++)
      await writer.append(makeLogTable(30, { firstOffset: index * 30, stepMicros: 60_000_000n }), {
        txns: [{ appId: 'p', version: index }],
      });
    for (const withHint of [true, false]) {
      if (!withHint) rmSync(join(log, '_last_checkpoint'));
      const snapshot = await (await DeltaTable.open(path)).snapshot();
      assert.equal(snapshot.version, 8);
      assert.equal(snapshot.txnVersion('p'), 7);
      const ours = tableToJsonRows(await snapshot.scan());
      assert.equal(ours.length, 240);
      const theirs = deltaRsView(path);
      assert.equal(theirs.version, 8);
      assert.deepEqual(sortRows(ours), sortRows(theirs.rows!));
    }
  });
});

describe('a damaged checkpoint', () => {
  it('is passed over for the JSON log with a warning: a crash that truncated it loses nothing', async () => {
    const path = join(scratch(), 'logs');
    const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, { checkpointInterval: 2 });
    for (let index = 0; index < 5; index++) await table.append(makeLogTable(20, { firstOffset: index * 20, stepMicros: 1000n }));
    const checkpoint = join(path, '_delta_log', `${versionName(4)}.checkpoint.parquet`);
    assert.ok(readdirSync(join(path, '_delta_log')).includes(`${versionName(4)}.checkpoint.parquet`));
    writeFileSync(checkpoint, 'PAR1 truncated by a crash');
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const snapshot = await (await DeltaTable.open(path)).snapshot();
      assert.equal(snapshot.version, 5);
      assert.equal(snapshot.numRows, 100);
      const written = [0, 1, 2, 3, 4].flatMap((index) => tableToJsonRows(makeLogTable(20, { firstOffset: index * 20, stepMicros: 1000n })));
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
