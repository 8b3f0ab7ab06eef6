// The main-thread side of the Delta writer thread (streamers/deltaWorker.ts): appends are sent as
// Arrow IPC (buffers transferred, not copied) and answered with the commit outcome.
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
  txns: Array<{ appId: string; version: number }>;
  operation: string;
}

export type AppendResponse = { id: number; outcome: AppendOutcome } | { id: number; error: { name: string; message: string } };

export class DeltaWriterThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (outcome: AppendOutcome) => void; reject: (error: Error) => void }>();

  constructor() {
    this.worker = new Worker(new URL('./deltaWorker.boot.mjs', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (response: AppendResponse) => {
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      if ('error' in response) waiter.reject(Object.assign(new Error(response.error.message), { name: response.error.name }));
      else waiter.resolve(response.outcome);
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new StreamerFailedError(`the Delta writer thread exited (code ${code})`)));
  }

  append(path: string, options: DeltaTableOptions, table: Table, txns: AppendRequest['txns'], operation: string): Promise<AppendOutcome> {
    const id = this.nextId++;
    const ipc = tableToIPC(table, 'stream');
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Keep the process alive while a commit is in flight.
      this.worker.ref();
      const request: AppendRequest = { id, path, options, ipc, txns, operation };
      this.worker.postMessage(request, [ipc.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
