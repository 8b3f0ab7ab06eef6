// Concurrent writers and crashed writers on one Delta table, on local disk and on the stack's S3
// store. The same file is the writer process: run with DELTA_WRITER_TASK=<json> it appends instead
// of defining tests (not a LOGSTREAM_ variable: those are configuration keys).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeltaTable, type S3Settings } from '../../clients/delta/index.js';
import { parseCommit } from '../../clients/delta/actions.js';
import { tableToJsonRows } from '../../clients/delta/rowFormat.js';
import { deltaRsView, logSchema, makeLogTable, sortRows } from '../helpers/deltalake.js';
import { commitVersions, deltaRsStorageOptions, storageCases, storageOf } from '../helpers/storages.js';

interface WorkerTask {
  path: string;
  options: { s3?: S3Settings };
  worker: number;
  commits: number;
  rowsPerCommit: number;
}

async function runWorker(task: WorkerTask): Promise<void> {
  const table = await DeltaTable.open(task.path, { ...task.options, checkpointInterval: 10 });
  for (let batch = 0; batch < task.commits; batch++) {
    const firstOffset = task.worker * 1_000_000 + batch * task.rowsPerCommit;
    const outcome = await table.append(
      makeLogTable(task.rowsPerCommit, { firstOffset, startMicros: 1_735_689_600_000_000n + BigInt(firstOffset) * 1000n }),
      {
        txns: [{ appId: `worker-${task.worker}`, version: batch }],
      },
    );
    if (outcome.status !== 'committed') throw new Error(`worker ${task.worker} batch ${batch}: ${JSON.stringify(outcome)}`);
    process.stdout.write(`${outcome.version}\n`);
  }
}

const workerTask = process.env.DELTA_WRITER_TASK;
if (workerTask) {
  await runWorker(JSON.parse(workerTask) as WorkerTask);
} else {
  defineTests();
}

function startWorker(task: WorkerTask): ChildProcess {
  const self = fileURLToPath(import.meta.url);
  const env: NodeJS.ProcessEnv = { ...process.env, DELTA_WRITER_TASK: JSON.stringify(task) };
  delete env.NODE_TEST_CONTEXT; // the worker is a plain process, not a test-runner child
  return spawn(process.execPath, ['--import', 'tsx', self], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The actions of one commit file, read straight from storage. */
async function commitActions(storage: ReturnType<typeof storageOf>, version: number) {
  return parseCommit(new TextDecoder().decode(await storage.read(`_delta_log/${String(version).padStart(20, '0')}.json`)));
}

function defineTests(): void {
  for (const storage of storageCases) defineStorageTests(storage);
}

function defineStorageTests(storage: (typeof storageCases)[number]): void {
  const { options } = storage;
  describe(`concurrent writers (${storage.name})`, () => {
    before(() => storage.ready());

    it('4 processes × 50 commits: versions without gaps, no commit lost, exact row count', { timeout: 600_000 }, async () => {
      const path = storage.scratch('delta-concurrency');
      await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      const workers = [0, 1, 2, 3].map((worker) => startWorker({ path, options, worker, commits: 50, rowsPerCommit: 20 }));
      const results = await Promise.all(workers.map(finished));
      for (const result of results) assert.equal(result.code, 0, result.stderr);

      assert.deepEqual(
        await commitVersions(storage, path),
        Array.from({ length: 201 }, (_, version) => version),
      );
      const snapshot = await (await DeltaTable.open(path, options)).snapshot();
      assert.equal(snapshot.version, 200);
      assert.equal(snapshot.numRows, 4 * 50 * 20);
      assert.deepEqual(snapshot.txnVersions(), { 'worker-0': 49, 'worker-1': 49, 'worker-2': 49, 'worker-3': 49 });
      const rows = tableToJsonRows(await snapshot.scan({ columns: ['kafka_offset'] }));
      const offsets = new Set(rows.map((row) => row.kafka_offset));
      assert.equal(offsets.size, 4000, 'every row of every commit, none twice');
      const files = storageOf(storage, path);
      for (let version = 1; version <= 200; version++) {
        const actions = await commitActions(files, version);
        assert.equal(actions.filter((action) => 'txn' in action).length, 1, `version ${version} carries its txn`);
      }
      const theirs = deltaRsView(path, { rows: false, storageOptions: deltaRsStorageOptions(storage) });
      assert.equal(theirs.version, 200);
      assert.equal(theirs.files.length, snapshot.fileCount);
    });
  });

  describe(`crashed writers (${storage.name})`, () => {
    before(() => storage.ready());

    it('a writer killed with SIGKILL mid-commit leaves a table both readers read, no partial commit visible', {
      timeout: 600_000,
    }, async () => {
      const path = storage.scratch('delta-crash');
      await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, options);
      for (let round = 0; round < 3; round++) {
        const child = startWorker({ path, options, worker: round, commits: 10_000, rowsPerCommit: 200 });
        const done = finished(child);
        let committed = 0;
        child.stdout!.on('data', (chunk: Buffer) => (committed += chunk.toString().split('\n').filter(Boolean).length));
        const target = 3 + round * 2;
        await waitFor(() => committed >= target, 120_000, `${target} commits from worker ${round}`);
        child.kill('SIGKILL');
        const result = await done;
        assert.equal(result.signal, 'SIGKILL');
      }
      // Every version file is complete JSON with its commitInfo and txn; versions have no gaps.
      const versions = await commitVersions(storage, path);
      assert.deepEqual(
        versions,
        Array.from({ length: versions.length }, (_, version) => version),
      );
      const files = storageOf(storage, path);
      for (const version of versions.slice(1)) {
        const actions = await commitActions(files, version);
        assert.ok(
          actions.some((action) => 'commitInfo' in action) && actions.some((action) => 'txn' in action),
          `version ${version} is complete`,
        );
      }
      const table = await DeltaTable.open(path, options);
      const snapshot = await table.snapshot();
      const ours = tableToJsonRows(await snapshot.scan());
      assert.equal(ours.length, snapshot.numRows);
      assert.equal(ours.length, (versions.length - 1) * 200, 'rows of every visible commit, nothing else');
      const theirs = deltaRsView(path, { storageOptions: deltaRsStorageOptions(storage) });
      assert.equal(theirs.version, snapshot.version);
      assert.deepEqual(sortRows(theirs.rows!), sortRows(ours));
      // The table stays writable; orphaned files of the killed commit are VACUUM's to remove later.
      assert.equal((await table.append(makeLogTable(5, { firstOffset: 99_000_000 }))).status, 'committed');
    });
  });
}
