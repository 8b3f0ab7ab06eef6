// The main-thread side of the Delta writer thread (streamers/deltaWorker.ts): appends are sent as
// Arrow IPC (buffers transferred, not copied) and answered with the commit outcomes. The thread
// starts on the first append and ends after a while without work, so a forgotten close() leaks
// nothing.
import { Worker } from 'node:worker_threads';
import { tableToIPC, type Table } from 'apache-arrow';
import type { DeltaTableOptions } from '../clients/delta/index.js';
import type { AppendOutcome } from './sinks.js';
import { StreamerFailedError } from './errors.js';

export type DeltaTxn = { appId: string; version: number; previousVersion?: number };

/** One table's append as the thread receives it. */
export interface AppendJob {
  path: string;
  options: DeltaTableOptions;
  ipc: Uint8Array;
  txns: DeltaTxn[];
  operation: string;
}

/** What to append: the table's path and options, the rows and the txns. */
export interface AppendSpec {
  path: string;
  options: DeltaTableOptions;
  rows: Table;
  txns: DeltaTxn[];
  operation: string;
}

export type JobResult = { outcome: AppendOutcome; durationMs: number } | { error: { name: string; message: string } };

export interface AppendResponse {
  id: number;
  first: JobResult[];
  /** Absent when `then` was not asked for, or was not attempted because a first append did not commit. */
  then?: JobResult;
}

const IDLE_EXIT_MS = 30_000;

export class DeltaWriterThread {
  private worker?: Worker;
  private idleTimer?: NodeJS.Timeout;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (response: AppendResponse) => void; reject: (error: Error) => void }>();

  /** One append; rejects with the thread's error when it fails. */
  async append(spec: AppendSpec): Promise<AppendOutcome> {
    const result = (await this.appendInOrder([spec])).first[0]!;
    if ('error' in result) throw Object.assign(new Error(result.error.message), { name: result.error.name });
    return result.outcome;
  }

  /**
   * Writes the files of every append at once, commits the `first` ones, then commits `then` only
   * when all of those committed. Failures come back per append, not as a rejection.
   */
  appendInOrder(first: AppendSpec[], then?: AppendSpec): Promise<AppendResponse> {
    const worker = this.running();
    const id = this.nextId++;
    const jobs = [...first, ...(then ? [then] : [])].map(({ rows, ...job }): AppendJob => ({ ...job, ipc: tableToIPC(rows, 'stream') }));
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request = { id, first: jobs.slice(0, first.length), then: then ? jobs[first.length] : undefined };
      worker.postMessage(request, jobs.map((job) => job.ipc.buffer as ArrayBuffer));
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private running(): Worker {
    clearTimeout(this.idleTimer);
    if (this.worker) {
      this.worker.ref();
      return this.worker;
    }
    const worker = new Worker(new URL('./deltaWorker.boot.mjs', import.meta.url));
    worker.on('message', (response: AppendResponse) => {
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      waiter.resolve(response);
      if (this.waiting.size === 0) {
        // Idle: let the process exit if nothing else runs, and end the thread after a while.
        worker.unref();
        this.idleTimer = setTimeout(() => void this.close(), IDLE_EXIT_MS).unref();
      }
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
