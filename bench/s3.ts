// Cost of a Delta commit on the local filesystem vs an S3-compatible store (the stack's SeaweedFS,
// `logstream stack up s3`) through @aws-sdk/client-s3: the bare put-if-absent of a commit file,
// a streamer-sized append (one small data file and a commit with a txn), opening a table, and the
// cached table's "anything new?" check. Env BENCH_COMMITS (default 300) sets the number of commits.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DeltaTable, type DeltaTableOptions, openStorage } from '../clients/delta/index.js';
import { loadConfig } from '../config/load.js';
import { S3_LOCAL_BUCKET, ensureLocalBucket, s3LocalSettings, s3Service } from '../infra/stack/services/s3.js';
import { logSchema, makeLogTable } from '../test/helpers/deltalake.js';

const settings = { commits: Number(process.env.BENCH_COMMITS ?? 300), rowsPerCommit: 20, opens: 20 };

const percentile = (sorted: number[], p: number) => +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2);
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: +(samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(2),
  };
};

async function measure(path: string, options: DeltaTableOptions) {
  const storage = openStorage(path, options);
  await storage.verify?.();
  const commitJson = `${JSON.stringify({ commitInfo: { timestamp: Date.now(), operation: 'WRITE', padding: 'x'.repeat(900) } })}\n`;
  const putIfAbsent: number[] = [];
  for (let index = 0; index < settings.commits; index++) {
    const started = performance.now();
    await storage.putIfAbsent(`_bench/${String(index).padStart(20, '0')}.json`, commitJson);
    putIfAbsent.push(performance.now() - started);
  }
  const table = await DeltaTable.create(path, logSchema, { partitionColumns: ['date', 'hour'] }, { ...options, checkpointInterval: 100 });
  const append: number[] = [];
  for (let commit = 0; commit < settings.commits; commit++) {
    const rows = makeLogTable(settings.rowsPerCommit, { firstOffset: commit * settings.rowsPerCommit });
    const started = performance.now();
    await table.append(rows, { txns: [{ appId: 'web-logs-0', version: commit }] });
    append.push(performance.now() - started);
  }
  const open: number[] = [];
  for (let index = 0; index < settings.opens; index++) {
    const started = performance.now();
    await (await DeltaTable.open(path, options)).snapshot();
    open.push(performance.now() - started);
  }
  const noChange: number[] = [];
  for (let index = 0; index < settings.opens; index++) {
    const started = performance.now();
    await table.txnVersion('web-logs-0');
    noChange.push(performance.now() - started);
  }
  return { putIfAbsent: summary(putIfAbsent), append: summary(append), open: summary(open), updateNoChange: summary(noChange) };
}

const config = loadConfig().config;
const local = join(mkdtempSync(join(tmpdir(), 'logstream-bench-s3-')), 'table');
const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
results.local = await measure(local, {});
rmSync(join(local, '..'), { recursive: true, force: true });
if (await s3Service.healthy(config)) {
  await ensureLocalBucket(config.stack.state_dir, S3_LOCAL_BUCKET);
  results.s3 = await measure(`s3://${S3_LOCAL_BUCKET}/bench/${Date.now().toString(36)}`, { s3: s3LocalSettings(config.stack.state_dir) });
} else {
  console.log('the stack S3 store is not running (logstream stack up s3): local figures only');
}

console.log('storage  operation               p50 ms   p99 ms   mean ms');
for (const [storage, figures] of Object.entries(results)) {
  for (const [operation, figure] of Object.entries(figures))
    console.log(
      `${storage.padEnd(8)} ${operation.padEnd(22)} ${String(figure.p50Ms).padStart(7)}  ${String(figure.p99Ms).padStart(7)}  ${String(figure.meanMs).padStart(8)}`,
    );
}
console.log(
  JSON.stringify({
    bench: 's3',
    results,
    machine: { cores: cpus().length, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version },
    settings: { ...settings, store: 'SeaweedFS on 127.0.0.1 (stack service s3)', client: '@aws-sdk/client-s3' },
  }),
);
