// Worker thread that appends to Delta tables, so Parquet encoding, statistics and file writes use
// the second core and never block the streamer's event loop (alerts, Kafka heartbeats, decoding).
// One request carries a batch's appends in commit order: every table's files are written first,
// then the `first` appends commit together, then `then` only if all of them committed.
import { parentPort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { DeltaTable, type DeltaTableOptions, type StagedAppend } from '../clients/delta/index.js';
import type { AppendJob, JobResult, WriterRequest, WriterResponse } from './deltaWriter.js';

const tables = new Map<string, Promise<DeltaTable>>();

function open(path: string, options: DeltaTableOptions): Promise<DeltaTable> {
  let table = tables.get(path);
  if (!table) {
    table = DeltaTable.open(path, options);
    tables.set(path, table);
    table.catch(() => tables.delete(path));
  }
  return table;
}

interface Staged {
  job: AppendJob;
  table: DeltaTable;
  staged: StagedAppend;
  startedMs: number;
}

async function stage(job: AppendJob): Promise<Staged> {
  const startedMs = performance.now();
  const table = await open(job.path, job.options);
  return { job, table, staged: await table.stageAppend(tableFromIPC(job.ipc)), startedMs };
}

async function commitStaged({ job, table, staged, startedMs }: Staged): Promise<JobResult> {
  try {
    const outcome = await table.commitStaged(staged, { txns: job.txns, operation: job.operation });
    const durationMs = performance.now() - startedMs;
    return outcome.status === 'committed' ? { outcome: { kind: 'committed', tableVersion: outcome.version }, durationMs } : { outcome: { kind: 'duplicate' }, durationMs };
  } catch (error) {
    await table.discardStaged(staged);
    return { error: { name: (error as Error).name, message: (error as Error).message } };
  }
}

async function run(first: AppendJob[], then: AppendJob | undefined): Promise<{ first: JobResult[]; then?: JobResult }> {
  const staging = [...first, ...(then ? [then] : [])].map((job) => stage(job).then(
    (staged): Staged | JobResult => staged,
    (error: Error): JobResult => ({ error: { name: error.name, message: error.message } }),
  ));
  const firstResults = await Promise.all(staging.slice(0, first.length).map(async (staging) => {
    const staged = await staging;
    return 'staged' in staged ? commitStaged(staged) : staged;
  }));
  if (!then) return { first: firstResults };
  const stagedThen = await staging[first.length]!;
  if (!('staged' in stagedThen)) return { first: firstResults, then: stagedThen };
  if (!firstResults.every((result) => 'outcome' in result && result.outcome.kind === 'committed')) {
    // The later commit must not land before the earlier ones: leave it to the caller's retry.
    await stagedThen.table.discardStaged(stagedThen.staged);
    return { first: firstResults };
  }
  return { first: firstResults, then: await commitStaged(stagedThen) };
}

/** Opens tables ahead of their first append (see DeltaWriterThread.warmUp). */
async function openAll(tables: Array<{ path: string; options: DeltaTableOptions }>): Promise<{ openError?: { name: string; message: string } }> {
  try {
    await Promise.all(tables.map(({ path, options }) => open(path, options)));
    return {};
  } catch (error) {
    return { openError: { name: (error as Error).name, message: (error as Error).message } };
  }
}

parentPort!.on('message', (request: WriterRequest) => {
  const work: Promise<Omit<WriterResponse, 'id'>> = 'open' in request ? openAll(request.open) : run(request.first, request.then);
  void work.then((results) => parentPort!.postMessage({ id: request.id, ...results }));
});
