// The lakehouse's own users on an s3:// root in the stack's S3 store: the streamer's Delta sinks
// appending from the writer thread (which builds its S3 storage from the path and the serializable
// settings), training samples read from the logs table, and the maintenance activity's table
// listing and OPTIMIZE/checkpoint/VACUUM, and the health check's Delta freshness.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadDependencies } from '../../activities/dependencies.js';
import { DeltaTable, tablePath } from '../../clients/delta/index.js';
import { loadConfig } from '../../config/load.js';
import { sampleLogsFromDelta } from '../../training/deltaSample.js';
import { openLakehouse } from '../../streamers/lakehouse.js';
import { scoredApacheRecords } from '../helpers/apacheLakehouse.js';
import { s3Case } from '../helpers/storages.js';

describe('a lakehouse on S3', () => {
  const root = s3Case.scratch('lakehouse');
  let records: Awaited<ReturnType<typeof scoredApacheRecords>>;

  before(async () => {
    await s3Case.ready();
    records = (await scoredApacheRecords()).slice(0, 3000);
  });

  it('takes the streamer commits from the writer thread, exactly once per txn version', { timeout: 120_000 }, async () => {
    const opened = await openLakehouse(root, { s3: s3Case.options.s3, checkpointInterval: 2, checkpointMinIntervalSeconds: 0 });
    const { lakehouse } = opened;
    const commit = async (rows: typeof records, version: bigint, expectedVersion: bigint) =>
      (await lakehouse.commitSteps([[{ table: 'logs', rows, txns: [{ appId: 'apache-replay-0', version, expectedVersion }] }]]))[0]![0]!;
    try {
      for (let start = 0; start < records.length; start += 1000) {
        const outcome = await commit(records.slice(start, start + 1000), BigInt(start + 999), BigInt(start - 1));
        assert.equal(outcome.kind, 'committed');
      }
      assert.equal((await commit(records.slice(0, 1000), 999n, -1n)).kind, 'refused');
      assert.equal((await lakehouse.txnVersions('logs', ['apache-replay-0'])).get('apache-replay-0'), 2999n);
    } finally {
      await opened.close();
    }
    const snapshot = await (await DeltaTable.open(tablePath(root, 'logs'), s3Case.options)).snapshot();
    assert.equal(snapshot.numRows, 3000);
    assert.equal(snapshot.version, 3);
  });

  it('gives training samples from the logs table', async () => {
    const times = records.map((record) => record.timestampMs);
    const sample = await sampleLogsFromDelta({
      root,
      storage: s3Case.options,
      lookbackHours: 24 * 365 * 20,
      samples: 500,
      seed: 7,
      nowMs: Math.max(...times) + 1,
    });
    assert.ok(sample.events.length > 0 && sample.events.length <= 500, `${sample.events.length} events`);
    assert.match(sample.source, /^delta:s3:\/\/logstream\/tests\//);
  });

  it('is checked for freshness, listed and maintained by the activities', { timeout: 120_000 }, async () => {
    const config = loadConfig({
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LOGSTREAM_'))),
        ...s3Case.env,
        LOGSTREAM_DELTA_ROOT: root,
      },
    }).config;
    const dependencies = loadDependencies(config);
    const freshness = await dependencies.health.deltaFreshness!(config, 3600);
    assert.equal(freshness.status, 'ok', freshness.detail);
    assert.match(freshness.detail, /logs table version 3 committed/);
    const maintenance = dependencies.maintenance;
    const tables = await maintenance.listTables(root);
    assert.ok(tables.includes(tablePath(root, 'logs')), JSON.stringify(tables));
    const result = await maintenance.maintainTable(tablePath(root, 'logs'), {
      vacuumRetentionHours: 0,
      logRetentionDays: 30,
      skipVacuum: true,
      targetFileSizeBytes: 64 * 1024 * 1024,
      signal: new AbortController().signal,
    });
    assert.ok(result.filesCompacted > 1, `${result.filesCompacted} files compacted`);
    const snapshot = await (await DeltaTable.open(tablePath(root, 'logs'), s3Case.options)).snapshot();
    assert.equal(snapshot.numRows, 3000);
    assert.equal(result.checkpointVersion, snapshot.version);
  });
});
