// A worker thread answering numbered requests, shared by the Delta writer thread and the decode
// thread: started on the first request, answered by id, and unreferenced while nothing waits, so
// an idle thread never keeps the process alive and a forgotten close() blocks nothing.
import { Worker } from 'node:worker_threads';
import { StreamerFailedError } from './errors.js';

export class ThreadRequests<Request extends { id: number }, Response extends { id: number }> {
  private worker?: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (response: Response) => void; reject: (error: Error) => void }>();

  constructor(
    private readonly entry: URL,
    /** Named in the error when the thread exits, e.g. "the Delta writer thread". */
    private readonly name: string,
    private readonly workerData?: unknown,
    /** Called with each new thread, before its first request (state that lives as long as it does). */
    private readonly onStart?: () => void,
  ) {}

  /** Sends a request (its id filled in here) and resolves with the thread's answer to it. */
  request(request: Omit<Request, 'id'>, transfer: ArrayBuffer[] = []): Promise<Response> {
    const worker = this.running();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, transfer);
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
    const worker = new Worker(this.entry, { workerData: this.workerData });
    this.onStart?.();
    worker.on('message', (response: Response) => {
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
      this.failAll(new StreamerFailedError(`${this.name} exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
