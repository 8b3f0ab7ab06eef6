// The main-thread side of the Delta writer thread (streamers/deltaWorker.ts): appends are sent as
// Arrow IPC (buffers transferred, not copied) and answered with the commit outcomes. The thread
// starts on warmUp or the first append and runs until close(); while it has no work it does not
// keep the process alive, so a forgotten close() blocks nothing.
import { Worker } from 'node:worker_threads';
import { tableToIPC, type Table } from 'apache-arrow';
import type { DeltaTableOptions, TxnRequest } from '../clients/delta/index.js';
import type { StepResult } from './commitSteps.js';
import { StreamerFailedError } from './errors.js';

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
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (response: WriterResponse) => void; reject: (error: Error) => void }>();

  /** commitSteps (commitSteps.ts) on the writer thread. */
  async commitSteps(steps: readonly (readonly AppendSpec[])[]): Promise<StepResult[][]> {
    const jobs = steps.map((step) => step.map(({ rows, ...job }): AppendJob => ({ ...job, ipc: tableToIPC(rows, 'stream') })));
    const transfer = jobs.flat().map((job) => job.ipc.buffer as ArrayBuffer);
    const response = await this.request({ id: this.nextId++, steps: jobs }, transfer);
    return 'results' in response ? response.results : [];
  }

  /**
   * Starts the thread and opens the tables now, so the first batch does not wait for the thread to
   * boot (about half a second): its commit latency is then like every other batch's.
   */
  async warmUp(tables: Array<{ path: string; options: DeltaTableOptions }>): Promise<void> {
    const response = await this.request({ id: this.nextId++, open: tables });
    if ('openError' in response && response.openError)
      throw Object.assign(new Error(response.openError.message), { name: response.openError.name });
  }

  private request(request: WriterRequest, transfer: ArrayBuffer[] = []): Promise<WriterResponse> {
    const worker = this.running();
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private running(): Worker {
    if (this.worker) {
      this.worker.ref();
      return this.worker;
    }
    const worker = new Worker(WORKER_ENTRY);
    worker.on('message', (response: WriterResponse) => {
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      waiter.resolve(response);
      // Idle: let the process exit if nothing else runs.
      if (this.waiting.size === 0) worker.unref();
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new StreamerFailedError(`the Delta writer thread exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
