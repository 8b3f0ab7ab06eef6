// Soak: a lakehouse written for a simulated month at 20 logs/s and a simulated day at 10,000 logs/s,
// fast-forwarded. Real commits on real storage (local disk, or the stack's S3 store), a synthetic
// clock, the streamer's batching rules and write chain for its four tables (commitSteps: quarantine,
// then logs, then anomalies and metrics_1m, plus the search/alert watermark commit every 5 s), the
// writer restarting every streaming.run_minutes, and the scheduled maintenance (OPTIMIZE, checkpoint
// with log cleanup, VACUUM) every schedules.maintenance_interval_hours, table after table like
// workflows/maintenance.ts. Prints commit p50/p99, fresh snapshot-load time and what it read,
// _delta_log and data file counts over time, and a final JSON line. Never fails.
//   npm run bench -- soak [--scenario both|month|day] [--days N] [--rate N] [--storage local|s3]
//     [--batch-max-wait-ms N] [--batch-max-rows N] [--batch-max-mb N] [--maintenance-hours H]
//     [--log-retention-days D] [--rows-per-commit N] [--report-hours H] [--dir DIR] [--keep]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Table } from 'apache-arrow';
import { DeltaTable, deltaOptionsFromConfig, type DeltaTableOptions, openStorage, tablePath } from '../clients/delta/index.js';
import { loadConfig } from '../config/load.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, type TrafficGenerator } from '../generator/index.js';
import { S3_LOCAL_BUCKET, ensureLocalBucket, s3LocalSettings, s3Service } from '../infra/stack/services/s3.js';
import { commitSteps, type StepAppend, type StepResult } from '../streamers/commitSteps.js';
import { percentile } from '../streamers/aggregate.js';
import { aggregateByPartition } from '../streamers/committer.js';
import { TABLE_FOLDERS } from '../streamers/lakehouse.js';
import { alertsAppId, searchAppId, txnAppId, type ScoredRecord, type TableName } from '../streamers/sinks.js';
import {
  ANOMALIES_PARTITION_COLUMNS,
  LOGS_PARTITION_COLUMNS,
  METRICS_PARTITION_COLUMNS,
  QUARANTINE_PARTITION_COLUMNS,
  anomaliesTable,
  logsTable,
  metricsTable,
  quarantineTable,
  type QuarantinedMessage,
} from '../streamers/tables.js';
import { SyntheticTimeStorage } from '../test/helpers/syntheticTimeStorage.js';

const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'both' },
    days: { type: 'string' },
    rate: { type: 'string' },
    storage: { type: 'string', default: 'local' },
    'batch-max-wait-ms': { type: 'string' },
    'batch-max-rows': { type: 'string' },
    'batch-max-mb': { type: 'string' },
    'maintenance-hours': { type: 'string' },
    'log-retention-days': { type: 'string' },
    /** Rows written per commit at most: a batch's rows are scaled down to this (commits and files stay real). */
    'rows-per-commit': { type: 'string', default: '100' },
    'report-hours': { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const config = loadConfig().config;
const TOPIC = config.kafka.topic;
const PARTITIONS = 4;
/** Average JSON line of the generator, for batch_max_mb. */
const MESSAGE_BYTES = 318;
/** Messages that fail decoding (quarantine): a trickle, as on a real site. */
const BAD_FRACTION = 0.002;
/** streamers/streamer.ts WATERMARK_INTERVAL_MS: a txn-only logs commit with the search and alert watermarks. */
const WATERMARK_INTERVAL_MS = 5_000;
const START_MS = Date.parse('2026-01-01T00:00:00Z');
const TABLES: TableName[] = ['logs', 'anomalies', 'metrics', 'quarantine'];

interface Scenario {
  name: string;
  days: number;
  rate: number;
  reportEveryMs: number;
}

const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const single = args.scenario !== 'both';
const scenarios: Scenario[] = [
  { name: 'month', days: 30, rate: 20, reportEveryMs: 86_400_000 },
  { name: 'day', days: 1, rate: 10_000, reportEveryMs: 3_600_000 },
]
  .filter((scenario) => args.scenario === 'both' || args.scenario === scenario.name)
  .map((scenario) => ({
    ...scenario,
    days: num(args.days, scenario.days),
    rate: single ? num(args.rate, scenario.rate) : scenario.rate,
    reportEveryMs: args['report-hours'] ? Number(args['report-hours']) * 3_600_000 : scenario.reportEveryMs,
  }));
if (scenarios.length === 0) {
  console.error('--scenario is month, day or both');
  process.exit(2);
}

const limits = {
  maxRows: num(args['batch-max-rows'], config.streaming.batch_max_rows),
  maxBytes: num(args['batch-max-mb'], config.streaming.batch_max_mb) * 1024 * 1024,
  maxWaitMs: num(args['batch-max-wait-ms'], config.streaming.batch_max_wait_ms),
};
const maintenanceMs = num(args['maintenance-hours'], config.schedules.maintenance_interval_hours) * 3_600_000;
const logRetentionDays = num(args['log-retention-days'], config.delta.log_retention_days);
const vacuumRetentionHours = config.delta.vacuum_retention_hours;
const runMs = config.streaming.run_minutes * 60_000;
const rowsPerCommitCap = Number(args['rows-per-commit']);

const round = (value: number, digits = 1) => +value.toFixed(digits);
function spread(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: round(sorted.length ? percentile(sorted, 0.5) : 0),
    p99Ms: round(sorted.length ? percentile(sorted, 0.99) : 0),
    maxMs: round(sorted.at(-1) ?? 0),
  };
}

/** How the streamer cuts batches at a steady rate (streamers/batch.ts): rows, bytes or the wait, whichever comes first. */
function batchShape(rate: number) {
  const fillRowsMs = (limits.maxRows / rate) * 1000;
  const fillBytesMs = (limits.maxBytes / (rate * MESSAGE_BYTES)) * 1000;
  const intervalMs = Math.max(1, Math.min(limits.maxWaitMs, fillRowsMs, fillBytesMs));
  const rows = Math.max(1, Math.round((rate * intervalMs) / 1000));
  const cut = intervalMs === limits.maxWaitMs ? 'batch_max_wait_ms' : intervalMs === fillRowsMs ? 'batch_max_rows' : 'batch_max_mb';
  const scale = Math.min(1, rowsPerCommitCap / rows);
  return { intervalMs, rows, cut, scale, writtenRows: Math.max(1, Math.round(rows * scale)) };
}

interface Location {
  root: string;
  options: DeltaTableOptions;
  cleanup(): Promise<void>;
}

async function location(name: string): Promise<Location> {
  if (args.storage === 's3') {
    if (!(await s3Service.healthy(config))) {
      console.error('the stack S3 store is not running: logstream stack up s3');
      process.exit(1);
    }
    await ensureLocalBucket(config.stack.state_dir, S3_LOCAL_BUCKET);
    const root = `s3://${S3_LOCAL_BUCKET}/bench/soak-${name}-${Date.now().toString(36)}`;
    const options = { s3: s3LocalSettings(config.stack.state_dir) };
    return {
      root,
      options,
      async cleanup() {
        const storage = openStorage(root, options);
        const files = await storage.list('', { recursive: true, withMetadata: false });
        for (let index = 0; index < files.length; index += 16)
          await Promise.all(files.slice(index, index + 16).map((file) => storage.delete(file.path)));
      },
    };
  }
  const root = join(mkdtempSync(join(args.dir ?? tmpdir(), `logstream-soak-${name}-`)), 'lakehouse');
  return { root, options: {}, cleanup: async () => rmSync(join(root, '..'), { recursive: true, force: true }) };
}

/** Rows of one batch: the generator's logs, stamped inside the batch's window of simulated time. */
function batchRows(generator: TrafficGenerator, count: number, endMs: number, intervalMs: number, offsets: bigint[], offsetStep: number) {
  const good: ScoredRecord[] = [];
  for (let index = 0; index < count; index++) {
    const log = generator.next();
    const timestampMs = Math.floor(endMs - intervalMs + ((index + 1) * intervalMs) / count);
    const partition = index % PARTITIONS;
    offsets[partition] = offsets[partition]! + BigInt(offsetStep);
    const anomalous = log.label !== 'normal';
    good.push({
      ...log,
      timestampMs,
      topic: TOPIC,
      partition,
      offset: offsets[partition]!,
      kafkaTimestampMs: timestampMs,
      ingestTimeMs: timestampMs + 5,
      anomalyScore: anomalous ? 1.5 : 0.4,
      isAnomaly: anomalous,
      cluster: index % 8,
      modelVersion: '1',
      reasons: anomalous ? ['status'] : [],
    });
  }
  return good;
}

function quarantined(record: ScoredRecord): QuarantinedMessage {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    kafkaTimestampMs: record.kafkaTimestampMs,
    ingestTimeMs: record.ingestTimeMs,
    value: Buffer.from('{"timestamp": "not a time", "path": "/"'),
    rejection: { code: 'unparseable', message: 'Unexpected end of JSON input' },
  };
}

interface Writer {
  tables: Record<TableName, DeltaTable>;
}

interface Report {
  simulatedHours: number;
  wallSeconds: number;
  commits: ReturnType<typeof spread>;
  checkpoints: number;
  snapshotLoadMs: Record<TableName, number>;
  snapshotLoadCalls: Record<TableName, { reads: number; lists: number; stats: number }>;
  logFiles: Record<TableName, number>;
  activeFiles: Record<TableName, number>;
  storedFiles: Record<TableName, number>;
}

async function runScenario(scenario: Scenario) {
  const shape = batchShape(scenario.rate);
  const where = await location(scenario.name);
  let nowMs = START_MS;
  const clock = () => nowMs;
  const storages = Object.fromEntries(
    TABLES.map((name) => [name, new SyntheticTimeStorage(openStorage(tablePath(where.root, TABLE_FOLDERS[name]), where.options), clock)]),
  ) as Record<TableName, SyntheticTimeStorage>;
  const tableOptions = (name: TableName): DeltaTableOptions => ({
    ...deltaOptionsFromConfig(config.delta),
    ...where.options,
    logRetentionDays,
    storage: storages[name],
    clock,
  });
  const schemas = {
    logs: { schema: logsTable([]).schema, partitionColumns: [...LOGS_PARTITION_COLUMNS] },
    anomalies: { schema: anomaliesTable([]).schema, partitionColumns: [...ANOMALIES_PARTITION_COLUMNS] },
    metrics: { schema: metricsTable([]).schema, partitionColumns: [...METRICS_PARTITION_COLUMNS] },
    quarantine: { schema: quarantineTable([]).schema, partitionColumns: [...QUARANTINE_PARTITION_COLUMNS] },
  };
  const paths = Object.fromEntries(TABLES.map((name) => [name, tablePath(where.root, TABLE_FOLDERS[name])])) as Record<TableName, string>;
  const openWriter = async (): Promise<Writer> => ({
    tables: Object.fromEntries(
      await Promise.all(
        TABLES.map(async (name) => [
          name,
          await DeltaTable.openOrCreate(
            paths[name],
            schemas[name].schema,
            { partitionColumns: schemas[name].partitionColumns, name: TABLE_FOLDERS[name] },
            tableOptions(name),
          ),
        ]),
      ),
    ) as Record<TableName, DeltaTable>,
  });

  const targetSizeBytes = Math.max(64 * 1024, config.delta.target_file_size_mb * 1024 * 1024 * shape.scale);
  console.log(
    `\n== ${scenario.name}: ${scenario.days} simulated day(s) at ${scenario.rate.toLocaleString('en')} logs/s on ${args.storage} (${where.root})`,
  );
  console.log(
    `   batches every ${round(shape.intervalMs / 1000, 2)} s of ${shape.rows.toLocaleString('en')} logs (cut by ${shape.cut}); ` +
      `${shape.writtenRows} rows written per batch (×${round(shape.scale, 4)}), OPTIMIZE target ${round(targetSizeBytes / 2 ** 20, 2)} MiB (scaled alike); ` +
      `maintenance every ${maintenanceMs / 3_600_000} h, log retention ${logRetentionDays} d, VACUUM ${vacuumRetentionHours} h, writer restart every ${runMs / 60_000} min`,
  );

  const generator = createTrafficGenerator({
    seed: 7,
    startTimeMs: START_MS,
    ratePerSecond: scenario.rate,
    anomalyRate: DEFAULT_ANOMALY_RATE,
  });
  const offsets = Array.from({ length: PARTITIONS }, () => -1n);
  const committed = { logs: [...offsets], quarantine: [...offsets], anomalies: [...offsets], metrics: [...offsets] };
  const offsetStep = Math.max(1, Math.round(1 / shape.scale));
  let badCarry = 0;
  let writer = await openWriter();
  const endMs = START_MS + scenario.days * 86_400_000;
  let nextMaintenanceMs = START_MS + maintenanceMs;
  let nextRestartMs = START_MS + runMs;
  let nextReportMs = START_MS + scenario.reportEveryMs;
  let lastWatermarkMs = START_MS;
  let periodCommits: number[] = [];
  const allCommits: number[] = [];
  const batchWall: number[] = [];
  const maintenanceRuns: {
    atHours: number;
    seconds: number;
    filesCompacted: number;
    filesVacuumed: number;
    logFilesDeleted: number;
    loadBeforeMs: Record<TableName, number>;
    activeFilesBefore: Record<TableName, number>;
    logsLoadReadsBefore: number;
  }[] = [];
  const reports: Report[] = [];
  const startedWall = performance.now();
  const checkpointsSoFar = () => TABLES.reduce((sum, name) => sum + storages[name].checkpoints.written, 0);
  let checkpointsAtReport = 0;

  const txns = (table: TableName, partitions: number[], through: bigint[]) =>
    partitions.map((partition) => ({
      appId: txnAppId(table, TOPIC, partition),
      version: Number(through[partition]!),
      expectedVersion: Number(committed[table][partition]!),
    }));
  const append = (table: TableName, rows: Table, txnList: StepAppend['txns']): Promise<StepAppend> =>
    Promise.resolve({ table: writer.tables[table], rows, txns: txnList, operation: 'STREAMING UPDATE' });
  const record = (results: StepResult[][]) => {
    for (const step of results)
      for (const result of step) {
        if (result.kind === 'committed') {
          periodCommits.push(result.durationMs);
          allCommits.push(result.durationMs);
        } else if (result.kind === 'failed') throw new Error(`a commit failed: ${result.error.name}: ${result.error.message}`);
        else if (result.kind === 'refused') throw new Error(`a commit was refused: ${JSON.stringify(result.refused)}`);
      }
  };

  /** A fresh open + snapshot of every table, as `logstream table info` or the trainer does it: time, calls, live files. */
  async function freshLoads() {
    const loads = {} as Report['snapshotLoadMs'];
    const calls = {} as Report['snapshotLoadCalls'];
    const activeFiles = {} as Report['activeFiles'];
    for (const name of TABLES) {
      const reader = new SyntheticTimeStorage(openStorage(paths[name], where.options), clock);
      const started = performance.now();
      const snapshot = await (await DeltaTable.open(paths[name], { ...where.options, storage: reader })).snapshot();
      loads[name] = round(performance.now() - started);
      calls[name] = { reads: reader.calls.read, lists: reader.calls.list, stats: reader.calls.stat };
      activeFiles[name] = snapshot.fileCount;
    }
    return { loads, calls, activeFiles };
  }

  async function report(atMs: number): Promise<void> {
    const { loads, calls, activeFiles } = await freshLoads();
    const logFiles = {} as Report['logFiles'];
    const storedFiles = {} as Report['storedFiles'];
    for (const name of TABLES) {
      const raw = openStorage(paths[name], where.options);
      logFiles[name] = (await raw.list('_delta_log/', { withMetadata: false })).length;
      storedFiles[name] = (await raw.list('', { recursive: true, withMetadata: false })).filter(
        (file) => !file.path.startsWith('_delta_log/'),
      ).length;
    }
    const entry: Report = {
      simulatedHours: round((atMs - START_MS) / 3_600_000, 2),
      wallSeconds: round((performance.now() - startedWall) / 1000),
      commits: spread(periodCommits),
      checkpoints: checkpointsSoFar() - checkpointsAtReport,
      snapshotLoadMs: loads,
      snapshotLoadCalls: calls,
      logFiles,
      activeFiles,
      storedFiles,
    };
    checkpointsAtReport = checkpointsSoFar();
    periodCommits = [];
    reports.push(entry);
    const perTable = (values: Record<TableName, number>) => TABLES.map((name) => values[name].toLocaleString('en')).join('/');
    const done = (atMs - START_MS) / (endMs - START_MS);
    const etaSeconds = ((performance.now() - startedWall) / 1000) * ((1 - done) / Math.max(done, 1e-9));
    console.log(
      `${String(entry.simulatedHours).padStart(7)} h  commits ${String(entry.commits.count).padStart(6)} p50 ${String(entry.commits.p50Ms).padStart(5)} p99 ${String(entry.commits.p99Ms).padStart(6)} ms  ` +
        `ckpt ${String(entry.checkpoints).padStart(3)}  load ${perTable(loads)} ms (logs: ${calls.logs.reads} reads, ${calls.logs.lists} lists)  ` +
        `_delta_log ${perTable(logFiles)}  files active ${perTable(activeFiles)} stored ${perTable(storedFiles)}  ` +
        `[wall ${Math.round(entry.wallSeconds)} s, eta ${Math.round(etaSeconds)} s, load avg ${loadavg()[0]!.toFixed(1)}]`,
    );
  }

  async function maintain(atMs: number): Promise<void> {
    // The peak of the cycle: the most small files and the longest tails a reader meets.
    const before = await freshLoads();
    const started = performance.now();
    const run = {
      atHours: round((atMs - START_MS) / 3_600_000, 2),
      seconds: 0,
      filesCompacted: 0,
      filesVacuumed: 0,
      logFilesDeleted: 0,
      loadBeforeMs: before.loads,
      activeFilesBefore: before.activeFiles,
      logsLoadReadsBefore: before.calls.logs.reads,
    };
    // One table at a time, each opened afresh, as the maintenance activity does.
    for (const name of TABLES) {
      const table = await DeltaTable.open(paths[name], tableOptions(name));
      const result = await table.maintain({ targetSizeBytes, vacuumRetentionHours });
      run.filesCompacted += result.optimized.filesRemoved;
      run.filesVacuumed += result.vacuumed?.files.length ?? 0;
      run.logFilesDeleted += result.checkpoint.logFilesDeleted;
    }
    run.seconds = round((performance.now() - started) / 1000, 2);
    maintenanceRuns.push(run);
    console.log(
      `  maintenance at ${run.atHours} h: ${run.seconds} s; compacted ${run.filesCompacted.toLocaleString('en')} files, vacuumed ${run.filesVacuumed.toLocaleString('en')}, ` +
        `deleted ${run.logFilesDeleted.toLocaleString('en')} log files; fresh load just before it ${TABLES.map((name) => run.loadBeforeMs[name]).join('/')} ms ` +
        `(${TABLES.map((name) => run.activeFilesBefore[name].toLocaleString('en')).join('/')} live files, logs read ${run.logsLoadReadsBefore} files)`,
    );
  }

  console.log(
    '  sim time  commits in the period (per table append)  checkpoints  fresh load per table (logs/anomalies/metrics_1m/quarantine)  _delta_log files  data files',
  );
  while (nowMs < endMs) {
    const batchEndMs = Math.min(endMs, nowMs + shape.intervalMs);
    // Scheduled work due before this batch, in time order.
    for (;;) {
      const due = Math.min(nextMaintenanceMs, nextRestartMs, nextReportMs);
      if (due > batchEndMs) break;
      nowMs = due;
      if (due === nextReportMs) {
        await report(due);
        nextReportMs += scenario.reportEveryMs;
      } else if (due === nextMaintenanceMs) {
        await maintain(due);
        nextMaintenanceMs += maintenanceMs;
      } else {
        writer = await openWriter(); // the streamer activity returns after run_minutes and starts again
        nextRestartMs += runMs;
      }
    }
    nowMs = batchEndMs;
    const rows = batchRows(generator, shape.writtenRows, batchEndMs, shape.intervalMs, offsets, offsetStep);
    badCarry += shape.writtenRows * BAD_FRACTION;
    const bad: QuarantinedMessage[] = [];
    while (badCarry >= 1 && rows.length > 1) {
      bad.push(quarantined(rows.pop()!));
      badCarry -= 1;
    }
    const partitions = Array.from({ length: PARTITIONS }, (_, index) => index);
    const through = [...offsets];
    const steps: Promise<StepAppend>[][] = [];
    if (bad.length) {
      const badPartitions = [...new Set(bad.map((message) => message.partition))];
      steps.push([append('quarantine', quarantineTable(bad), txns('quarantine', badPartitions, through))]);
    }
    steps.push([append('logs', logsTable(rows), txns('logs', partitions, through))]);
    steps.push([
      append('anomalies', anomaliesTable(rows.filter((row) => row.isAnomaly)), txns('anomalies', partitions, through)),
      append(
        'metrics',
        metricsTable(aggregateByPartition(TOPIC, rows, new Map(partitions.map((partition) => [partition, through[partition]!])))),
        txns('metrics', partitions, through),
      ),
    ]);
    const started = performance.now();
    record(await commitSteps(steps));
    batchWall.push(performance.now() - started);
    for (const table of ['logs', 'anomalies', 'metrics'] as const) committed[table] = [...through];
    if (bad.length) for (const message of bad) committed.quarantine[message.partition] = through[message.partition]!;
    if (batchEndMs - lastWatermarkMs >= WATERMARK_INTERVAL_MS) {
      lastWatermarkMs = batchEndMs;
      const marks = partitions.flatMap((partition) => [
        { appId: alertsAppId(TOPIC, partition), version: Number(through[partition]!) },
        { appId: searchAppId(config.elasticsearch.index_prefix, TOPIC, partition), version: Number(through[partition]!) },
      ]);
      record(await commitSteps([[append('logs', logsTable([]), marks)]]));
    }
  }
  await report(endMs);

  const end = reports.at(-1)!;
  // The target is judged at the end of the run, at its worst: the last day's fresh loads, including
  // those just before each maintenance run (the most small files and the longest tails of the cycle).
  const lastDayMs = endMs - Math.min(86_400_000, endMs - START_MS);
  const lastDay = [
    ...reports.filter((entry) => START_MS + entry.simulatedHours * 3_600_000 >= lastDayMs).map((entry) => entry.snapshotLoadMs),
    ...maintenanceRuns.filter((run) => START_MS + run.atHours * 3_600_000 >= lastDayMs).map((run) => run.loadBeforeMs),
  ];
  const worstLoadLastDay = Object.fromEntries(TABLES.map((name) => [name, Math.max(...lastDay.map((loads) => loads[name]))]));
  const result = {
    scenario: scenario.name,
    simulatedDays: scenario.days,
    ratePerSecond: scenario.rate,
    batch: {
      everySeconds: round(shape.intervalMs / 1000, 3),
      logs: shape.rows,
      cutBy: shape.cut,
      rowsWritten: shape.writtenRows,
      scale: round(shape.scale, 5),
    },
    wallSeconds: round((performance.now() - startedWall) / 1000),
    commits: spread(allCommits),
    lastPeriodCommits: end.commits,
    batchWrite: spread(batchWall),
    checkpointsWritten: checkpointsSoFar(),
    worstLoadLastDayMs: worstLoadLastDay,
    end: {
      snapshotLoadMs: end.snapshotLoadMs,
      snapshotLoadCalls: end.snapshotLoadCalls,
      logFiles: end.logFiles,
      activeFiles: end.activeFiles,
      storedFiles: end.storedFiles,
    },
    maxLogFiles: Object.fromEntries(TABLES.map((name) => [name, Math.max(...reports.map((entry) => entry.logFiles[name]))])),
    maintenance: {
      runs: maintenanceRuns.length,
      maxSeconds: Math.max(0, ...maintenanceRuns.map((run) => run.seconds)),
      filesCompacted: maintenanceRuns.reduce((sum, run) => sum + run.filesCompacted, 0),
      filesVacuumed: maintenanceRuns.reduce((sum, run) => sum + run.filesVacuumed, 0),
      logFilesDeleted: maintenanceRuns.reduce((sum, run) => sum + run.logFilesDeleted, 0),
      loadBeforeLogsMs: maintenanceRuns.map((run) => run.loadBeforeMs.logs),
    },
    series: reports.map((entry) => ({
      hours: entry.simulatedHours,
      commitP50Ms: entry.commits.p50Ms,
      commitP99Ms: entry.commits.p99Ms,
      loadLogsMs: entry.snapshotLoadMs.logs,
      logFiles: entry.logFiles,
      activeFiles: entry.activeFiles,
      storedFiles: entry.storedFiles,
    })),
  };
  console.log(
    `   end: commit p50 ${result.commits.p50Ms} ms, p99 ${result.commits.p99Ms} ms (last period ${end.commits.p99Ms} ms) over ${result.commits.count.toLocaleString('en')} commits; ` +
      `fresh load at the end logs ${end.snapshotLoadMs.logs} ms, worst of the last day ${worstLoadLastDay.logs} ms (of any table ${Math.max(...Object.values(worstLoadLastDay))} ms); ` +
      `${result.checkpointsWritten} checkpoints; maintenance ${result.maintenance.runs} runs, longest ${result.maintenance.maxSeconds} s; wall ${Math.round(result.wallSeconds)} s`,
  );
  if (!args.keep) await where.cleanup();
  else console.log(`   kept ${where.root}`);
  return result;
}

const results = [];
for (const scenario of scenarios) results.push(await runScenario(scenario));
console.log(
  JSON.stringify({
    bench: 'soak',
    results,
    settings: {
      storage: args.storage,
      streaming: {
        batch_max_rows: limits.maxRows,
        batch_max_mb: limits.maxBytes / 2 ** 20,
        batch_max_wait_ms: limits.maxWaitMs,
        run_minutes: runMs / 60_000,
      },
      delta: { ...config.delta, log_retention_days: logRetentionDays },
      maintenance_interval_hours: maintenanceMs / 3_600_000,
      rowsPerCommitCap,
      partitions: PARTITIONS,
      badFraction: BAD_FRACTION,
      anomalyRate: DEFAULT_ANOMALY_RATE,
    },
    machine: {
      cores: cpus().length,
      memoryGiB: round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverage: loadavg().map((value) => round(value, 2)),
    },
  }),
);
