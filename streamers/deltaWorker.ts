// Worker thread that appends to Delta tables, so Parquet encoding, statistics and file writes use
// the second core and never block the streamer's event loop (alerts, Kafka heartbeats, decoding).
// One request carries a batch's appends, committed in steps by commitSteps (commitSteps.ts).
import { parentPort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { DeltaTable, type DeltaTableOptions } from '../clients/delta/index.js';
import type { AppendJob, WriterRequest, WriterResponse } from './deltaWriter.js';
import { commitSteps, type StepAppend } from './commitSteps.js';

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

const prepared = async (job: AppendJob): Promise<StepAppend> => ({
  table: await open(job.path, job.options),
  rows: tableFromIPC(job.ipc),
  txns: job.txns,
  operation: job.operation,
});

/** Opens tables ahead of their first append (see DeltaWriterThread.warmUp). */
async function openAll(
  toOpen: Array<{ path: string; options: DeltaTableOptions }>,
): Promise<{ openError?: { name: string; message: string } }> {
  try {
    await Promise.all(toOpen.map(({ path, options }) => open(path, options)));
    return {};
  } catch (error) {
    return { openError: { name: (error as Error).name, message: (error as Error).message } };
  }
}

parentPort!.on('message', (request: WriterRequest) => {
  const work: Promise<Omit<WriterResponse, 'id'>> =
    'open' in request
      ? openAll(request.open)
      : commitSteps(request.steps.map((step) => step.map(prepared))).then((results) => ({ results }));
  void work.then((results) => parentPort!.postMessage({ id: request.id, ...results }));
});
