// The Delta engine against delta-rs (the reference implementation): the shared test tables, tables we
// write (also after OPTIMIZE, checkpoints and VACUUM), and tables both engines write to, on local
// disk and on the stack's S3 store (delta-rs then reads and writes with its own S3 client).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeltaTable, DeltaError, TableNotFoundError, UnsupportedFeatureError } from '../../clients/delta/index.js';
import { readdir, readFile } from 'node:fs/promises';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { deltaRsAppend, deltaRsView, logSchema, makeLogTable, sortRows, type DeltaRsView } from '../helpers/deltalake.js';
import { DELTA_TABLES } from '../helpers/fixtures.js';
import { deltaRsStorageOptions, localCase, logFileNames, storageCases, storageOf, type StorageCase } from '../helpers/storages.js';

const testdata = DELTA_TABLES;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scratch = () => mkdtempSync(join(tmpdir(), 'logstream-delta-interop-'));

function tryDeltaRs(storage: StorageCase, path: string, version?: number): DeltaRsView | { openError: string } {
  try {
    return deltaRsView(path, { version, storageOptions: deltaRsStorageOptions(storage) });
  } catch (error) {
    return { openError: (error as Error).message };
  }
}

async function expectSameAsDeltaRs(storage: StorageCase, path: string, version?: number): Promise<string> {
  const theirs = tryDeltaRs(storage, path, version);
  if ('openError' in theirs) {
    await assert.rejects(
      DeltaTable.open(path, storage.options).then((table) => table.snapshot(version === undefined ? {} : { version })),
      TableNotFoundError,
    );
    return 'both refuse to open';
  }
  const table = await DeltaTable.open(path, storage.options);
  const snapshot = await table.snapshot(version === undefined ? {} : { version });
  assert.equal(snapshot.version, theirs.version, 'version');
  assert.deepEqual(snapshot.schema.fields.map((field) => field.name).sort(), [...theirs.columns].sort(), 'columns');
  assert.deepEqual([...snapshot.partitionColumns], theirs.partitionColumns, 'partition columns');
  assert.deepEqual(
    snapshot
      .files()
      .map((add) => decodeURIComponent(add.path))
      .sort(),
    theirs.files,
    'active files',
  );
  if (theirs.error !== undefined) {
    // delta-rs cannot read the rows either (data files missing from the fixture): we must fail clearly, not return partial data.
    await assert.rejects(snapshot.scan(), (error: Error) => error instanceof DeltaError && /is missing/.test(error.message));
    return `log matches; rows unreadable by both (${theirs.error.slice(0, 60)}…)`;
  }
  const ours = tableToJsonRows(await snapshot.scan());
  assert.deepEqual(sortRows(ours), sortRows(theirs.rows!), 'rows');
  return `${ours.length} rows match`;
}

/** Copies a fixture table's files under an S3 prefix, keeping their relative paths. */
async function uploadTable(storage: StorageCase, folder: string, path: string): Promise<void> {
  const target = storageOf(storage, path);
  const files = (await readdir(folder, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  await Promise.all(
    files.map(async (entry) => {
      const full = join(entry.parentPath, entry.name);
      await target.put(full.slice(folder.length + 1), await readFile(full));
    }),
  );
}

for (const storage of storageCases) {
  describe(`reading the shared Delta test tables (${storage.name})`, () => {
    before(() => storage.ready());
    for (const name of readdirSync(testdata).sort()) {
      it(`reads ${name} exactly as delta-rs does`, async () => {
        let path = join(testdata, name);
        if (storage !== localCase) {
          path = storage.scratch(`fixture-${name}`);
          await uploadTable(storage, join(testdata, name), path);
        }
        await expectSameAsDeltaRs(storage, path);
        const latest = tryDeltaRs(storage, path);
        // A middle version too, on local disk (on S3 the latest is enough: the log is read the same way).
        if (storage === localCase && !('openError' in latest) && latest.version > 0)
          await expectSameAsDeltaRs(storage, path, Math.floor(latest.version / 2));
      });
    }
  });
}

function writeLog(tablePath: string, version: number, actions: object[]): void {
  mkdirSync(join(tablePath, '_delta_log'), { recursive: true });
  writeFileSync(
    join(tablePath, '_delta_log', `${String(version).padStart(20, '0')}.json`),
    `${actions.map((action) => JSON.stringify(action)).join('\n')}\n`,
  );
}

const schemaString = JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] });

describe('unsupported features', () => {
  it('refuses a table with deletion vectors, naming the feature, in the API and the CLI', async () => {
    const path = join(scratch(), 'dv');
    writeLog(path, 0, [
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] } },
      {
        metaData: {
          id: 'dv',
          format: { provider: 'parquet', options: {} },
          schemaString,
          partitionColumns: [],
          configuration: { 'delta.enableDeletionVectors': 'true' },
          createdTime: 0,
        },
      },
    ]);
    await assert.rejects(
      DeltaTable.open(path),
      (error: Error) => error instanceof UnsupportedFeatureError && /"deletionVectors"/.test(error.message),
    );
    const cli = spawnSync(process.execPath, ['bin/logstream.js', 'table', 'rows', path], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /uses "deletionVectors", which this engine cannot read/);
  });

  it('refuses column mapping and future reader versions', async () => {
    const mapped = join(scratch(), 'cm');
    writeLog(mapped, 0, [
      { protocol: { minReaderVersion: 2, minWriterVersion: 5 } },
      {
        metaData: {
          id: 'cm',
          format: { provider: 'parquet', options: {} },
          schemaString,
          partitionColumns: [],
          configuration: { 'delta.columnMapping.mode': 'name' },
          createdTime: 0,
        },
      },
    ]);
    await assert.rejects(DeltaTable.open(mapped), /"columnMapping"/);
    const future = join(scratch(), 'future');
    writeLog(future, 0, [
      { protocol: { minReaderVersion: 9, minWriterVersion: 9 } },
      {
        metaData: {
          id: 'f',
          format: { provider: 'parquet', options: {} },
          schemaString,
          partitionColumns: [],
          configuration: {},
          createdTime: 0,
        },
      },
    ]);
    await assert.rejects(DeltaTable.open(future), /"minReaderVersion 9"/);
  });
});

for (const storage of storageCases) defineWrittenTableTests(storage);

function defineWrittenTableTests(storage: StorageCase): void {
  const { options } = storage;
  const dataFileCount = async (path: string) =>
    (await storageOf(storage, path).list('', { recursive: true })).filter(
      (file) => file.path.endsWith('.parquet') && !file.path.startsWith('_delta_log/'),
    ).length;

  describe(`tables written by this engine (${storage.name})`, () => {
    before(() => storage.ready());

    it('are read by delta-rs with identical rows after appends, checkpoints, OPTIMIZE and VACUUM', async () => {
      const path = storage.scratch('delta-interop');
      const table = await DeltaTable.create(
        path,
        logSchema,
        { partitionColumns: ['date', 'hour'] },
        { ...options, checkpointInterval: 2, checkpointMinIntervalSeconds: 0 },
      );
      for (let batch = 0; batch < 4; batch++) {
        const outcome = await table.append(
          makeLogTable(2500, { startMicros: 1_735_689_600_000_000n + BigInt(batch) * 1_800_000_000n, firstOffset: batch * 2500 }),
          {
            txns: [{ appId: 'web-logs-0', version: batch * 2500 + 2499 }],
          },
        );
        assert.equal(outcome.status, 'committed');
      }
      const log = await logFileNames(storage, path);
      assert.ok(log.includes('00000000000000000004.checkpoint.parquet'), 'checkpoint every 2 commits');
      assert.ok(log.includes('_last_checkpoint'));
      assert.equal(await expectSameAsDeltaRs(storage, path), '10000 rows match');
      assert.equal(await expectSameAsDeltaRs(storage, path, 1), '2500 rows match');

      const before = (await table.snapshot()).fileCount;
      const optimized = await table.optimize({ targetSizeBytes: 64 * 1024 * 1024 });
      assert.ok(optimized.filesRemoved > optimized.filesAdded, 'small files were compacted');
      const after = await table.snapshot();
      assert.equal(after.fileCount, before - optimized.filesRemoved + optimized.filesAdded);
      assert.equal(after.numRows, 10000);
      assert.equal(await expectSameAsDeltaRs(storage, path), '10000 rows match');

      await table.checkpoint();
      const dryRun = await table.vacuum({ retentionHours: 0, force: true, dryRun: true });
      assert.equal(dryRun.files.length, optimized.filesRemoved, 'dry run lists exactly the compacted-away files');
      await assert.rejects(table.vacuum({ retentionHours: 0 }), /refusing to VACUUM/);
      const vacuumed = await table.vacuum({ retentionHours: 0, force: true });
      assert.deepEqual(vacuumed.files.sort(), dryRun.files.sort());
      assert.equal(await expectSameAsDeltaRs(storage, path), '10000 rows match');
      assert.equal((await table.snapshot()).txnVersion('web-logs-0'), 9999);
    });

    it('reads what delta-rs appends to a table this engine created', async () => {
      const path = storage.scratch('delta-shared');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      await table.append(makeLogTable(1000));
      const extra = tableToJsonRows(makeLogTable(300, { startMicros: 1_735_776_000_123_456n, firstOffset: 5000 }));
      assert.equal(deltaRsAppend(path, extra, ['timestamp'], deltaRsStorageOptions(storage)), 2);
      const snapshot = await table.snapshot();
      assert.equal(snapshot.version, 2);
      const ours = tableToJsonRows(await snapshot.scan());
      assert.equal(ours.length, 1300);
      assert.deepEqual(sortRows(ours), sortRows([...tableToJsonRows(makeLogTable(1000)), ...extra]));
      assert.equal(await expectSameAsDeltaRs(storage, path), '1300 rows match');
      // Our writes go on after delta-rs's commit.
      assert.equal((await table.append(makeLogTable(10, { firstOffset: 9000 }))).status, 'committed');
      assert.equal(await expectSameAsDeltaRs(storage, path), '1310 rows match');
    });

    it('commits staged files like an append, deletes them when the table refuses the txn, and projects columns in the order asked', async () => {
      const path = storage.scratch('delta-staged');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      const dataFiles = () => dataFileCount(path);
      const staged = await table.stageAppend(makeLogTable(50));
      assert.equal((await table.snapshot()).fileCount, 0, 'staged files are not part of the table yet');
      assert.equal((await table.commitStaged(staged, { txns: [{ appId: 'web-logs-0', version: 49 }] })).status, 'committed');
      const filesAfterCommit = await dataFiles();
      const replayed = await table.stageAppend(makeLogTable(50));
      assert.ok((await dataFiles()) > filesAfterCommit);
      assert.equal((await table.commitStaged(replayed, { txns: [{ appId: 'web-logs-0', version: 49 }] })).status, 'refused');
      assert.equal(await dataFiles(), filesAfterCommit, 'the refused files are gone');
      const snapshot = await table.snapshot();
      assert.equal(snapshot.numRows, 50);
      const projected = await snapshot.scan({ columns: ['kafka_offset', 'client_ip'] });
      assert.deepEqual(
        projected.schema.fields.map((field) => field.name),
        ['kafka_offset', 'client_ip'],
      );
      assert.equal(projected.numRows, 50);
      assert.equal(await expectSameAsDeltaRs(storage, path), '50 rows match');
    });

    it('answers txn versions, refuses a replayed batch and a batch that does not continue exactly where the table is', async () => {
      const path = storage.scratch('delta-txn');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      await table.append(makeLogTable(100), {
        txns: [
          { appId: 'web-logs-0', version: 99 },
          { appId: 'web-logs-1', version: 7 },
        ],
      });
      const other = await DeltaTable.open(path, options);
      const duplicate = await other.append(makeLogTable(100), { txns: [{ appId: 'web-logs-1', version: 7 }] });
      assert.deepEqual(duplicate, {
        status: 'refused',
        refused: [{ appId: 'web-logs-1', committedVersion: 7, reason: 'already-committed' }],
      });
      // A batch of offsets 20..30 after a table at 7 would leave 8..19 out: refused, nothing written.
      const gap = await other.append(makeLogTable(11, { firstOffset: 20 }), {
        txns: [{ appId: 'web-logs-1', version: 30, expectedVersion: 19 }],
      });
      assert.deepEqual(gap, { status: 'refused', refused: [{ appId: 'web-logs-1', committedVersion: 7, reason: 'moved' }] });
      const next = await other.append(makeLogTable(12, { firstOffset: 8 }), {
        txns: [{ appId: 'web-logs-1', version: 19, expectedVersion: 7 }],
      });
      assert.equal(next.status, 'committed');
      assert.equal(await other.txnVersion('web-logs-0'), 99);
      assert.equal((await other.snapshot()).numRows, 112);
      assert.equal((await storageOf(storage, path).listFolders('')).filter((name) => name.startsWith('date=')).length, 1);
    });
  });

  describe(`logstream table (${storage.name})`, () => {
    before(() => storage.ready());
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/logstream.js', 'table', ...args], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, ...storage.env },
      });

    it('prints info JSON, history and rows in path order with ISO timestamps; bad --where exits 2', async () => {
      const path = storage.scratch('delta-cli');
      const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      await table.append(makeLogTable(4000), { txns: [{ appId: 'web-logs-2', version: 3999 }] });
      const info = JSON.parse(run('info', path, '--json').stdout);
      assert.deepEqual(Object.keys(info), [
        'path',
        'version',
        'schema',
        'partitionColumns',
        'fileCount',
        'rowCount',
        'sizeBytes',
        'txnVersions',
        'protocol',
        'properties',
      ]);
      assert.equal(info.version, 1);
      assert.equal(info.rowCount, 4000);
      assert.deepEqual(info.partitionColumns, ['date', 'hour']);
      assert.deepEqual(info.txnVersions, { 'web-logs-2': 3999 });
      assert.deepEqual(info.schema[0], { name: 'timestamp', type: 'timestamp', nullable: false });

      const history = run('history', path);
      assert.equal(history.status, 0);
      assert.match(history.stdout, /^1\s+\S+\s+WRITE\s+4000\s+0/m);

      const rows = run('rows', path, '--where', "status = 500 and timestamp >= '2025-01-01T00:30:00Z'", '--limit', '5');
      assert.equal(rows.status, 0);
      const printed = rows.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      assert.equal(printed.length, 5);
      assert.ok(
        printed.every(
          (row) =>
            row.status === 500 && /^2025-01-01T\d\d:\d\d:\d\d\.\d{6}Z$/.test(row.timestamp) && row.timestamp >= '2025-01-01T00:30:00',
        ),
      );
      const again = run('rows', path, '--where', "status = 500 and timestamp >= '2025-01-01T00:30:00Z'", '--limit', '5');
      assert.equal(again.stdout, rows.stdout, 'deterministic order');

      const csv = run('rows', path, '--format', 'csv', '--columns', 'kafka_offset,status', '--where', 'kafka_offset < 3');
      assert.equal(csv.stdout, 'kafka_offset,status\r\n0,200\r\n1,304\r\n2,200\r\n');

      const bad = run('rows', path, '--where', 'status = = 5');
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /expected a value/);
      assert.equal(run('rows', path, '--where', 'nope = 5').status, 2);
      assert.equal(run('info', `${path}/missing`).status, 2);
    });
  });
}
