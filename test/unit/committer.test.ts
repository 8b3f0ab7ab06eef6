// The commit protocol through the interleavings that used to double or lose rows: two streamers on
// one in-memory lakehouse (refusing txns by the Delta engine's own rule), driven step by step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { type Accepted, cutBatch } from '../../streamers/batch.js';
import { StreamerFailedError } from '../../streamers/errors.js';
import { TableCommitter } from '../../streamers/committer.js';
import { PartitionLedger, type TableVersions } from '../../streamers/ledger.js';
import { txnAppId, type ScoredRecord, type TableName } from '../../streamers/sinks.js';
import { type Fault, MemoryLakehouse } from '../helpers/memoryLakehouse.js';

const TOPIC = 'web-logs';
const silent = pino({ level: 'silent' });
const TABLES: TableName[] = ['logs', 'quarantine', 'anomalies', 'metrics'];

function record(partition: number, offset: bigint): ScoredRecord {
  return {
    timestampMs: Date.UTC(2026, 11, 1, 10, 0, 0) + Number(offset) * 10,
    clientIp: `10.0.0.${Number(offset) % 250}`,
    method: 'GET',
    path: '/products/1',
    query: null,
    pathTemplate: '/products/{id}',
    status: 200,
    responseTimeMs: 12,
    responseBytes: 512,
    referrer: null,
    userAgent: null,
    label: null,
    topic: TOPIC,
    partition,
    offset,
    kafkaTimestampMs: 0,
    ingestTimeMs: 0,
    // Every 10th row is an anomaly, so anomalies can be checked against logs.
    anomalyScore: offset % 10n === 0n ? 3 : 0.5,
    isAnomaly: offset % 10n === 0n,
    cluster: 0,
    modelVersion: 'test',
    reasons: offset % 10n === 0n ? ['status'] : [],
  };
}

/** Offsets (from, through] of a partition as intake would accept them; every 25th is a bad message. */
function accepted(partition: number, from: bigint, through: bigint): Accepted[] {
  const rows: Accepted[] = [];
  for (let offset = from + 1n; offset <= through; offset += 1n) {
    if (offset % 25n === 7n) {
      rows.push({
        topic: TOPIC,
        partition,
        offset,
        kafkaTimestampMs: 0,
        ingestTimeMs: 0,
        value: Buffer.from('not a log'),
        rejection: { code: 'unparseable', message: 'not JSON' },
      });
    } else rows.push(record(partition, offset));
  }
  return rows;
}

/** One streamer's committing side: its ledger, committer and the seeks it asked for. */
class Side {
  readonly ledger = new PartitionLedger();
  readonly seeks: Array<[number, bigint]> = [];
  readonly committer: TableCommitter;

  constructor(
    readonly lakehouse: MemoryLakehouse,
    budgetMs = 2_000,
  ) {
    this.committer = new TableCommitter({
      topic: TOPIC,
      lakehouse,
      ledger: this.ledger,
      resync: (partition) => this.sync(partition),
      sendDeadLetters: async () => undefined,
      logger: silent,
      retry: { initialMs: 1, maxMs: 5, budgetMs },
      stopping: () => false,
    });
  }

  /** What a streamer does on assignment and resync: positions from the tables' txns. */
  async sync(partition: number): Promise<void> {
    const versions = {} as TableVersions;
    for (const table of TABLES) {
      const appId = txnAppId(table, TOPIC, partition);
      versions[table] = (await this.lakehouse.txnVersions(table, [appId])).get(appId)!;
    }
    this.seeks.push([partition, this.ledger.resync(partition, versions)]);
  }

  /** Intake of (from, through] followed by a cut: the batch a streamer would hand to its writer. */
  take(partition: number, from: bigint, through: bigint) {
    const rows = accepted(partition, from, through);
    for (const row of rows) this.ledger.covered(partition, row.offset);
    return cutBatch(rows, this.ledger);
  }
}

/** Every offset 0..through of a partition is in exactly one of logs and quarantine, once; anomalies and metrics follow logs. */
function assertExactlyOnce(lakehouse: MemoryLakehouse, partition: number, through: bigint): void {
  const logs = lakehouse.keys('logs').filter((key) => key.startsWith(`${partition}:`));
  const quarantine = lakehouse.keys('quarantine').filter((key) => key.startsWith(`${partition}:`));
  const all = [...logs, ...quarantine];
  assert.equal(all.length, new Set(all).size, `partition ${partition}: no offset twice`);
  const expected = Array.from({ length: Number(through) + 1 }, (_, offset) => `${partition}:${offset}`);
  assert.deepEqual([...all].sort(), [...expected].sort(), `partition ${partition}: every offset through ${through}, none missing`);
  const anomalies = lakehouse.keys('anomalies').filter((key) => key.startsWith(`${partition}:`));
  const flagged = (lakehouse.tables.logs.rows as ScoredRecord[]).filter((row) => row.partition === partition && row.isAnomaly);
  assert.deepEqual(
    [...anomalies].sort(),
    flagged.map((row) => `${row.partition}:${row.offset}`).sort(),
    'anomalies are the flagged logs rows, once each',
  );
  assert.equal(lakehouse.metricsRequests(partition), logs.length, 'metrics_1m counts every logs row once');
  for (const table of ['logs', 'anomalies', 'metrics'] as const)
    assert.equal(lakehouse.tables[table].txns.get(txnAppId(table, TOPIC, partition)), through, `${table} txn at ${through}`);
}

describe('TableCommitter', () => {
  it('commits quarantine, logs and the followers of a batch, each txn continuing exactly from the table', async () => {
    const lakehouse = new MemoryLakehouse();
    const side = new Side(lakehouse);
    await side.sync(0);
    await side.sync(1);
    await side.committer.commit(side.take(0, -1n, 99n));
    const both = [...accepted(0, 99n, 199n), ...accepted(1, -1n, 49n)];
    const outcome = await side.committer.commit(cutBatch(both, side.ledger));
    assert.deepEqual([...outcome.ours.keys()], [0, 1]);
    assertExactlyOnce(lakehouse, 0, 199n);
    assertExactlyOnce(lakehouse, 1, 49n);
    assert.equal(lakehouse.tables.logs.commits, 2, 'one logs commit per batch');
  });

  it('rebalance mid-batch: a batch another streamer already committed in part is refused, dropped and re-synchronised', async () => {
    const lakehouse = new MemoryLakehouse();
    const first = new Side(lakehouse);
    await first.sync(0);
    await first.committer.commit(first.take(0, -1n, 99n));
    const inFlight = first.take(0, 99n, 199n);
    // The group moved partition 0 to another streamer, which resumes from the table and commits 100..149.
    const second = new Side(lakehouse);
    await second.sync(0);
    await second.committer.commit(second.take(0, 99n, 149n));
    const outcome = await first.committer.commit(inFlight);
    assert.deepEqual([...outcome.dropped.keys()], [0], 'the partition is dropped from the batch');
    assert.equal(outcome.ours.size, 0, 'none of its rows written');
    assert.deepEqual(first.seeks.at(-1), [0, 150n], 're-sought right after what the table holds');
    await first.committer.commit(first.take(0, 149n, 199n));
    assertExactlyOnce(lakehouse, 0, 199n);
  });

  it('a batch queued behind a resync is void: it never writes, even where the table would take it', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse);
    await streamer.sync(0);
    const batch1 = streamer.take(0, -1n, 99n);
    const batch2 = streamer.take(0, 99n, 199n);
    const rival = new Side(lakehouse);
    await rival.sync(0);
    await rival.committer.commit(rival.take(0, -1n, 149n));
    assert.equal((await streamer.committer.commit(batch1)).dropped.size, 1);
    // batch2 continues from 99, which the table no longer is; its generation is void anyway.
    const outcome = await streamer.committer.commit(batch2);
    assert.equal(outcome.ours.size, 0);
    assert.equal(lakehouse.tables.logs.commits, 1, 'only the rival committed');
    await streamer.committer.commit(streamer.take(0, 149n, 199n));
    assertExactlyOnce(lakehouse, 0, 199n);
  });

  it('read ahead past a foreign commit: rows taken before the resync never reach the table, nothing is skipped', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse);
    await streamer.sync(0);
    await streamer.committer.commit(streamer.take(0, -1n, 99n));
    const batch = streamer.take(0, 99n, 199n);
    const readAhead = streamer.take(0, 199n, 399n);
    // Another streamer owned the partition for a while and committed 100..299.
    const rival = new Side(lakehouse);
    await rival.sync(0);
    await rival.committer.commit(rival.take(0, 99n, 299n));
    assert.equal((await streamer.committer.commit(batch)).dropped.size, 1);
    assert.deepEqual(streamer.seeks.at(-1), [0, 300n]);
    assert.equal((await streamer.committer.commit(readAhead)).ours.size, 0, 'the read-ahead rows are void');
    await streamer.committer.commit(streamer.take(0, 299n, 399n));
    assertExactlyOnce(lakehouse, 0, 399n);
  });

  it('a batch whose base is not the logs version is refused by the table, whatever the streamer believes', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse);
    await streamer.sync(0);
    // As if the streamer believed offsets 0..299 written: committing 300..399 would lose them for good.
    streamer.ledger.resync(0, { logs: 299n, quarantine: 299n, anomalies: 299n, metrics: 299n });
    const outcome = await streamer.committer.commit(streamer.take(0, 299n, 399n));
    assert.equal(outcome.ours.size, 0);
    assert.equal(lakehouse.tables.logs.rows.length, 0);
    assert.deepEqual(streamer.seeks.at(-1), [0, 0n], 're-sought to where the table really is');
  });

  it('a commit whose reply is lost is settled by asking the table: written once, followers read back from the logs table', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse);
    await streamer.sync(0);
    lakehouse.fault = (append) => (append.table === 'logs' ? 'lose-reply' : 'commit');
    const outcome = await streamer.committer.commit(streamer.take(0, -1n, 99n));
    lakehouse.fault = () => 'commit';
    assert.deepEqual([...outcome.readBack.keys()], [0], 'the range is known to be written, not by whom');
    assert.equal(streamer.ledger.committed(0, 'logs'), 99n);
    await streamer.committer.commit(streamer.take(0, 99n, 149n));
    assertExactlyOnce(lakehouse, 0, 149n);
  });

  it('a commit that failed before writing is retried until it lands, once', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse);
    await streamer.sync(0);
    let failures = 0;
    lakehouse.fault = (append) => (append.table === 'logs' && failures++ < 3 ? 'fail' : 'commit');
    await streamer.committer.commit(streamer.take(0, -1n, 99n));
    assertExactlyOnce(lakehouse, 0, 99n);
    assert.equal(lakehouse.tables.logs.commits, 1);
  });

  it('failures that outlast the retry budget stop the streamer without marking anything written', async () => {
    const lakehouse = new MemoryLakehouse();
    const streamer = new Side(lakehouse, 50);
    await streamer.sync(0);
    lakehouse.fault = (append) => (append.table === 'logs' ? 'fail' : 'commit');
    await assert.rejects(streamer.committer.commit(streamer.take(0, -1n, 99n)), StreamerFailedError);
    assert.equal(streamer.ledger.committed(0, 'logs'), -1n, 'the position did not move');
    assert.equal(lakehouse.tables.logs.rows.length, 0);
    // A restarted streamer resumes from the table and loses nothing.
    lakehouse.fault = () => 'commit';
    const restarted = new Side(lakehouse);
    await restarted.sync(0);
    await restarted.committer.commit(restarted.take(0, -1n, 99n));
    assertExactlyOnce(lakehouse, 0, 99n);
  });

  it('a streamer frozen mid-commit and resumed after another took over writes nothing twice', async () => {
    const lakehouse = new MemoryLakehouse();
    const frozen = new Side(lakehouse);
    await frozen.sync(0);
    await frozen.committer.commit(frozen.take(0, -1n, 99n));
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = true;
    lakehouse.fault = async (append): Promise<Fault> => {
      if (holding && append.table === 'logs') {
        holding = false;
        await held;
      }
      return 'commit';
    };
    const stalled = frozen.committer.commit(frozen.take(0, 99n, 249n));
    // While it is frozen the group hands the partition to another streamer, which gets ahead.
    await new Promise((resolve) => setImmediate(resolve));
    const successor = new Side(lakehouse);
    await successor.sync(0);
    await successor.committer.commit(successor.take(0, 99n, 199n));
    await successor.committer.commit(successor.take(0, 199n, 299n));
    release();
    const outcome = await stalled;
    assert.equal(outcome.ours.size, 0, 'the stale batch is refused');
    assertExactlyOnce(lakehouse, 0, 299n);
  });

  it('after a crash between the logs and follower commits, the next streamer brings the followers up from the logs table', async () => {
    const lakehouse = new MemoryLakehouse();
    const crashed = new Side(lakehouse, 30);
    await crashed.sync(0);
    lakehouse.fault = (append) => (append.table === 'anomalies' || append.table === 'metrics' ? 'fail' : 'commit');
    await assert.rejects(crashed.committer.commit(crashed.take(0, -1n, 99n)));
    assert.equal(lakehouse.tables.logs.rows.length, 96, 'logs committed, followers not');
    lakehouse.fault = () => 'commit';
    const next = new Side(lakehouse);
    await next.sync(0);
    await next.committer.catchUpFollowers(0);
    await next.committer.commit(next.take(0, 99n, 149n));
    assertExactlyOnce(lakehouse, 0, 149n);
  });

  it('quarantine ahead of logs (a crash between them) is not written again, and the logs commit still lands', async () => {
    const lakehouse = new MemoryLakehouse();
    const crashed = new Side(lakehouse, 30);
    await crashed.sync(0);
    lakehouse.fault = (append) => (append.table === 'logs' ? 'fail' : 'commit');
    await assert.rejects(crashed.committer.commit(crashed.take(0, -1n, 99n)));
    assert.equal(lakehouse.tables.quarantine.rows.length, 4);
    lakehouse.fault = () => 'commit';
    const next = new Side(lakehouse);
    await next.sync(0);
    await next.committer.commit(next.take(0, -1n, 149n));
    assertExactlyOnce(lakehouse, 0, 149n);
  });
});
