// The main-thread side of the Delta writer thread (streamers/deltaWorker.ts): appends are sent as
// Arrow IPC (buffers transferred, not copied) and answered with the commit outcome. The thread
// starts on the first append and ends after a while without work, so a forgotten close() leaks
// nothing.
import { Worker } from 'node:worker_threads';
import { tableToIPC, type Table } from 'apache-arrow';
import type { DeltaTableOptions } from '../clients/delta/index.js';
import type { AppendOutcome } from './sinks.js';
import { StreamerFailedError } from './errors.js';

export interface AppendRequest {
  id: number;
  path: string;
  options: DeltaTableOptions;
  ipc: Uint8Array;
  txns: Array<{ appId: string; version: number; previousVersion?: number }>;
  operation: string;
}

export type AppendResponse = { id: number; outcome: AppendOutcome } | { id: number; error: { name: string; message: string } };

const IDLE_EXIT_MS = 30_000;

export class DeltaWriterThread {
  private worker?: Worker;
  private idleTimer?: NodeJS.Timeout;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (outcome: AppendOutcome) => void; reject: (error: Error) => void }>();

  append(path: string, options: DeltaTableOptions, table: Table, txns: AppendRequest['txns'], operation: string): Promise<AppendOutcome> {
    const worker = this.running();
    const id = this.nextId++;
    const ipc = tableToIPC(table, 'stream');
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: AppendRequest = { id, path, options, ipc, txns, operation };
      worker.postMessage(request, [ipc.buffer as ArrayBuffer]);
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
      if ('error' in response) waiter.reject(Object.assign(new Error(response.error.message), { name: response.error.name }));
      else waiter.resolve(response.outcome);
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
