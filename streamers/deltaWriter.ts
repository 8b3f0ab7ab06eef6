// The main-thread side of the Delta writer thread (streamers/deltaWorker.ts): appends are sent as
// Arrow IPC (buffers transferred, not copied) and answered with the commit outcomes. The thread
// starts on warmUp or the first append and runs until close() (streamers/threadRequests.ts).
import { tableToIPC, type Table } from 'apache-arrow';
import type { DeltaTableOptions, TxnRequest } from '../clients/delta/index.js';
import type { StepResult } from './commitSteps.js';
import { ThreadRequests } from './threadRequests.js';

/** The writer thread's own bundle, defined when the sources run bundled (bin/sourceBundle.mjs). */
declare const LOGSTREAM_DELTA_WORKER_BUNDLE: string | undefined;
const WORKER_ENTRY =
  typeof LOGSTREAM_DELTA_WORKER_BUNDLE === 'string'
    ? new URL(LOGSTREAM_DELTA_WORKER_BUNDLE)
    : // From the sources: worker threads do not inherit tsx, so the boot file registers it.
      new URL('./deltaWorker.boot.mjs', import.meta.url);

/** One table's append as the thread receives it. */
export interface AppendJob {
  path: string;
  options: DeltaTableOptions;
  ipc: Uint8Array;
  txns: TxnRequest[];
  operation: string;
}

/** What to append: the table's path and options, the rows and the txns. */
export interface AppendSpec {
  path: string;
  options: DeltaTableOptions;
  rows: Table;
  txns: TxnRequest[];
  operation: string;
}

export type WriterResponse = { id: number; results: StepResult[][] } | { id: number; openError?: { name: string; message: string } };

/** What the thread receives: a batch's appends in steps, or tables to open ahead of the first batch. */
export type WriterRequest =
  | { id: number; steps: AppendJob[][] }
  | { id: number; open: Array<{ path: string; options: DeltaTableOptions }> };

export class DeltaWriterThread {
  private readonly thread = new ThreadRequests<WriterRequest, WriterResponse>(WORKER_ENTRY, 'the Delta writer thread');

  /** commitSteps (commitSteps.ts) on the writer thread. */
  async commitSteps(steps: readonly (readonly AppendSpec[])[]): Promise<StepResult[][]> {
    const jobs = steps.map((step) => step.map(({ rows, ...job }): AppendJob => ({ ...job, ipc: tableToIPC(rows, 'stream') })));
    const transfer = jobs.flat().map((job) => job.ipc.buffer as ArrayBuffer);
    const response = await this.thread.request({ steps: jobs }, transfer);
    return 'results' in response ? response.results : [];
  }

  /**
   * Starts the thread and opens the tables now, so the first batch does not wait for the thread to
   * boot (about half a second): its commit latency is then like every other batch's.
   */
  async warmUp(tables: Array<{ path: string; options: DeltaTableOptions }>): Promise<void> {
    const response = await this.thread.request({ open: tables });
    if ('openError' in response && response.openError)
      throw Object.assign(new Error(response.openError.message), { name: response.openError.name });
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
