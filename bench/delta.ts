// Delta engine benchmark: append throughput (100k-row log batches), snapshot load time for a table
// with 1,000 commits with and without a checkpoint, OPTIMIZE of 1,000 small files.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Field, Float64, Int32, Int64, Schema, TimeUnit, Timestamp, Utf8, vectorFromArray, type Table, type Vector } from 'apache-arrow';
import { DeltaTable } from '../clients/delta/index.js';
import { tableFromColumns, timestampVectorFromMicros } from '../clients/delta/arrowColumns.js';
import type { ParquetCompression } from '../clients/delta/parquet.js';

const settings = {
  batchRows: Number(process.env.BENCH_BATCH_ROWS ?? 100_000),
  batches: Number(process.env.BENCH_BATCHES ?? 5),
  commits: Number(process.env.BENCH_COMMITS ?? 1000),
  rowsPerSmallCommit: 20,
  loadRepeats: 9,
  partitionColumns: ['date', 'hour'],
};

const schema = new Schema([
  new Field('timestamp', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false),
  new Field('date', new Utf8(), false),
  new Field('hour', new Int32(), false),
  new Field('client_ip', new Utf8(), true),
  new Field('method', new Utf8(), true),
  new Field('path', new Utf8(), true),
  new Field('endpoint', new Utf8(), true),
  new Field('status', new Int32(), true),
  new Field('response_bytes', new Int64(), true),
  new Field('response_time_ms', new Float64(), true),
  new Field('referrer', new Utf8(), true),
  new Field('user_agent', new Utf8(), true),
  new Field('anomaly_score', new Float64(), true),
  new Field('kafka_partition', new Int32(), false),
  new Field('kafka_offset', new Int64(), false),
]);

const agents = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'curl/8.4.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
];
const templates = [
  '/',
  '/products/{id}',
  '/products/{id}/reviews',
  '/cart',
  '/checkout',
  '/search',
  '/api/v1/orders/{id}',
  '/static/{file}',
];

/** Realistic log rows within one hour (one partition), like one streamer micro-batch. */
function logBatch(rows: number, firstOffset: number, hourStartMicros: bigint): { table: Table; arrowBytes: number } {
  const micros: bigint[] = [],
    ip: string[] = [],
    method: string[] = [],
    path: string[] = [],
    endpoint: string[] = [],
    status: number[] = [];
  const bytes: bigint[] = [],
    ms: number[] = [],
    referrer: (string | null)[] = [],
    agent: string[] = [],
    score: number[] = [],
    offset: bigint[] = [];
  for (let i = 0; i < rows; i++) {
    const n = firstOffset + i;
    micros.push(hourStartMicros + BigInt(Math.floor((i / rows) * 3_599_000_000)));
    ip.push(`${(n * 7) % 223}.${(n * 13) % 255}.${(n * 17) % 255}.${n % 255}`);
    method.push(n % 10 === 0 ? 'POST' : 'GET');
    const template = templates[(n * 31) % templates.length]!;
    endpoint.push(template);
    path.push(template.replace('{id}', String((n * 7919) % 100_000)).replace('{file}', `app.${n % 50}.js`));
    status.push([200, 200, 200, 200, 304, 404, 500, 301][(n * 13) % 8]!);
    bytes.push(BigInt((n * 104_729) % 250_000));
    ms.push(((n * 37) % 20_000) / 10);
    referrer.push(n % 3 === 0 ? null : 'https://www.example.com/');
    agent.push(agents[n % agents.length]!);
    score.push(((n * 9973) % 1000) / 1000);
    offset.push(BigInt(n));
  }
  const iso = new Date(Number(hourStartMicros / 1000n)).toISOString();
  const columns: Record<string, Vector> = {
    timestamp: timestampVectorFromMicros(micros, schema.fields[0]!.type as Timestamp),
    date: vectorFromArray(new Array(rows).fill(iso.slice(0, 10)), new Utf8()),
    hour: vectorFromArray(new Array(rows).fill(Number(iso.slice(11, 13))), new Int32()),
    client_ip: vectorFromArray(ip, new Utf8()),
    method: vectorFromArray(method, new Utf8()),
    path: vectorFromArray(path, new Utf8()),
    endpoint: vectorFromArray(endpoint, new Utf8()),
    status: vectorFromArray(status, new Int32()),
    response_bytes: vectorFromArray(bytes, new Int64()),
    response_time_ms: vectorFromArray(ms, new Float64()),
    referrer: vectorFromArray(referrer, new Utf8()),
    user_agent: vectorFromArray(agent, new Utf8()),
    anomaly_score: vectorFromArray(score, new Float64()),
    kafka_partition: vectorFromArray(new Array(rows).fill(0), new Int32()),
    kafka_offset: vectorFromArray(offset, new Int64()),
  };
  const table = tableFromColumns(schema, columns, rows);
  let arrowBytes = 0;
  for (const vector of Object.values(columns)) for (const data of vector.data) arrowBytes += data.byteLength;
  return { table, arrowBytes };
}

const hour0 = 1_735_689_600_000_000n;
const hourMicros = 3_600_000_000n;
const mb = (bytes: number) => bytes / 1024 / 1024;

async function appendThroughput(root: string, compression: ParquetCompression) {
  const table = await DeltaTable.create(
    join(root, `append-${compression}`),
    schema,
    { partitionColumns: settings.partitionColumns },
    { compression, checkpointInterval: 1_000_000 },
  );
  const batches = Array.from({ length: settings.batches }, (_, index) =>
    logBatch(settings.batchRows, index * settings.batchRows, hour0 + BigInt(index) * hourMicros),
  );
  await table.append(logBatch(1000, 0, hour0).table); // warm up WebAssembly and JIT
  let elapsedMs = 0,
    parquetBytes = 0,
    arrowBytes = 0;
  for (const [index, batch] of batches.entries()) {
    const before = (await table.snapshot()).sizeBytes;
    const started = performance.now();
    await table.append(batch.table, { txns: [{ appId: 'web-logs-0', version: index }] });
    elapsedMs += performance.now() - started;
    parquetBytes += (await table.snapshot()).sizeBytes - before;
    arrowBytes += batch.arrowBytes;
  }
  const rows = settings.batches * settings.batchRows;
  return {
    compression,
    rows,
    seconds: elapsedMs / 1000,
    rowsPerSecond: Math.round(rows / (elapsedMs / 1000)),
    arrowMBPerSecond: +(mb(arrowBytes) / (elapsedMs / 1000)).toFixed(1),
    parquetMBPerSecond: +(mb(parquetBytes) / (elapsedMs / 1000)).toFixed(1),
    parquetMB: +mb(parquetBytes).toFixed(1),
  };
}

async function timeOpen(path: string): Promise<number> {
  await (await DeltaTable.open(path)).snapshot(); // untimed: JIT warm-up of this code path
  const times: number[] = [];
  for (let i = 0; i < settings.loadRepeats; i++) {
    const started = performance.now();
    const table = await DeltaTable.open(path);
    await table.snapshot();
    times.push(performance.now() - started);
  }
  return +times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!.toFixed(1);
}

async function manyCommits(root: string) {
  const path = join(root, 'many-commits');
  const table = await DeltaTable.create(path, schema, { partitionColumns: settings.partitionColumns }, { checkpointInterval: 1_000_000 });
  const started = performance.now();
  const batchesPerHour = 100;
  const commitLatencies: number[] = [];
  for (let commit = 0; commit < settings.commits; commit++) {
    const batch = logBatch(
      settings.rowsPerSmallCommit,
      commit * settings.rowsPerSmallCommit,
      hour0 + BigInt(Math.floor(commit / batchesPerHour)) * hourMicros,
    );
    const t = performance.now();
    await table.append(batch.table, { txns: [{ appId: `web-logs-${commit % 3}`, version: commit }] });
    commitLatencies.push(performance.now() - t);
  }
  const buildSeconds = (performance.now() - started) / 1000;
  commitLatencies.sort((a, b) => a - b);
  const loadNoCheckpointMs = await timeOpen(path);
  await table.checkpoint();
  const loadWithCheckpointMs = await timeOpen(path);
  // The streamer's path: a cached table asks for a txn version after another writer's commit.
  const other = await DeltaTable.open(path);
  await table.append(logBatch(10, 999_999, hour0).table, { txns: [{ appId: 'web-logs-0', version: 1_000_000 }] });
  const t = performance.now();
  await other.txnVersion('web-logs-0');
  const incrementalUpdateMs = +(performance.now() - t).toFixed(2);
  const optimizeStarted = performance.now();
  const optimized = await table.optimize({ targetSizeBytes: 128 * 1024 * 1024 });
  const optimizeSeconds = (performance.now() - optimizeStarted) / 1000;
  return {
    commits: settings.commits,
    buildSeconds: +buildSeconds.toFixed(1),
    commitP50Ms: +commitLatencies[Math.floor(commitLatencies.length * 0.5)]!.toFixed(1),
    commitP99Ms: +commitLatencies[Math.floor(commitLatencies.length * 0.99)]!.toFixed(1),
    loadNoCheckpointMs,
    loadWithCheckpointMs,
    incrementalUpdateMs,
    optimize: {
      filesBefore: optimized.filesRemoved,
      filesAfter: optimized.filesAdded,
      seconds: +optimizeSeconds.toFixed(2),
      partitions: optimized.partitionsOptimized,
    },
  };
}

const root = mkdtempSync(join(tmpdir(), 'logstream-bench-delta-'));
const figures: Record<string, unknown> = {};
try {
  figures.append = [await appendThroughput(root, 'snappy'), await appendThroughput(root, 'zstd')];
  figures.log = await manyCommits(root);
} catch (error) {
  figures.error = (error as Error).message;
} finally {
  rmSync(root, { recursive: true, force: true });
}

const lines: string[][] = [['measure', 'value']];
for (const append of (figures.append as Awaited<ReturnType<typeof appendThroughput>>[] | undefined) ?? []) {
  lines.push([
    `append ${settings.batches}×${settings.batchRows} rows, ${append.compression}`,
    `${append.rowsPerSecond.toLocaleString('en')} rows/s, ${append.arrowMBPerSecond} MB/s Arrow in, ${append.parquetMBPerSecond} MB/s Parquet out (${append.parquetMB} MB)`,
  ]);
}
const log = figures.log as Awaited<ReturnType<typeof manyCommits>> | undefined;
if (log) {
  lines.push([
    `${log.commits} small commits (${settings.rowsPerSmallCommit} rows)`,
    `${log.buildSeconds} s, commit p50 ${log.commitP50Ms} ms, p99 ${log.commitP99Ms} ms`,
  ]);
  lines.push([`snapshot load, ${log.commits} commits, no checkpoint`, `${log.loadNoCheckpointMs} ms`]);
  lines.push([`snapshot load, checkpoint at ${log.commits}`, `${log.loadWithCheckpointMs} ms`]);
  lines.push(['cached table: txnVersion after 1 new commit', `${log.incrementalUpdateMs} ms`]);
  lines.push([
    `OPTIMIZE ${log.optimize.filesBefore} small files`,
    `${log.optimize.seconds} s -> ${log.optimize.filesAfter} files in ${log.optimize.partitions} partitions`,
  ]);
}
if (figures.error) lines.push(['error', String(figures.error)]);
const width = Math.max(...lines.map((line) => line[0]!.length));
console.log(lines.map((line) => `${line[0]!.padEnd(width)}  ${line[1]}`).join('\n'));
console.log(
  JSON.stringify({
    bench: 'delta',
    machine: { cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version },
    settings,
    figures,
  }),
);
