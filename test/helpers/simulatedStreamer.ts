// A stand-in for the micro-batch streamer, used only to exercise orchestration against the
// real Temporal server: partitions of an in-memory log are copied into an in-memory table whose
// commits carry txn versions (partition -> last offset) checked at commit time, the way the
// Delta table guards exactly-once. Runs until its abort signal fires, yielding between batches.
import type { StreamerProgressUpdate, StreamerRunRequest, StreamerRunner } from '../../activities/ports.js';

export interface SimulatedTable {
  /** Rows as "partition:offset" strings in commit order. */
  rows: string[];
  txn: Map<number, number>;
  commits: number;
}

export class SimulatedLog {
  readonly produced: number[];
  readonly table: SimulatedTable = { rows: [], txn: new Map(), commits: 0 };
  /** Model versions streamers reported, in order of batches. */
  readonly modelVersions: string[] = [];
  /** How many streamers are inside run() now. */
  running = 0;
  peakRunning = 0;

  constructor(partitions: number) {
    this.produced = Array.from({ length: partitions }, () => 0);
  }

  produce(messagesPerPartition: number): void {
    for (let partition = 0; partition < this.produced.length; partition += 1) this.produced[partition] += messagesPerPartition;
  }

  get producedTotal(): number {
    return this.produced.reduce((sum, count) => sum + count, 0);
  }

  duplicateRows(): number {
    return this.table.rows.length - new Set(this.table.rows).size;
  }

  runner(options: { batchRows?: number; batchDelayMs?: number } = {}): StreamerRunner {
    const batchRows = options.batchRows ?? 50;
    const batchDelayMs = options.batchDelayMs ?? 20;
    return async (request: StreamerRunRequest): Promise<StreamerProgressUpdate> => {
      this.running += 1;
      this.peakRunning = Math.max(this.peakRunning, this.running);
      const startedAt = Date.now();
      let rowsTotal = 0;
      let batches = 0;
      let modelVersion = request.desiredModelVersion();
      const progress = (): StreamerProgressUpdate => ({
        partitions: this.produced.map((count, partition) => {
          const committed = this.table.txn.get(partition) ?? -1;
          return { partition, committedOffset: String(committed), lag: count - committed - 1 };
        }),
        rowsTotal,
        batches,
        rowsPerSecond: rowsTotal / Math.max(0.001, (Date.now() - startedAt) / 1000),
        lastCommitAt: new Date().toISOString(),
        lastCommitVersion: this.table.commits,
        modelVersion,
      });
      try {
        while (!request.signal.aborted) {
          // Between batches: switch to the model the pipeline wants now, and say so.
          if (request.desiredModelVersion() !== modelVersion) {
            modelVersion = request.desiredModelVersion();
            request.onProgress(progress());
          }
          for (let partition = 0; partition < this.produced.length; partition += 1) {
            // Resume point: the table's txn version for the partition, never anything remembered.
            const committed = this.table.txn.get(partition) ?? -1;
            const end = Math.min(this.produced[partition], committed + 1 + batchRows);
            if (end <= committed + 1) continue;
            const rows = [];
            for (let offset = committed + 1; offset < end; offset += 1) rows.push(`${partition}:${offset}`);
            await new Promise((resolve) => setTimeout(resolve, batchDelayMs)); // the batch's work
            if ((this.table.txn.get(partition) ?? -1) !== committed) continue; // txn conflict: another streamer committed
            this.table.rows.push(...rows);
            this.table.txn.set(partition, end - 1);
            this.table.commits += 1;
            this.modelVersions.push(modelVersion);
            rowsTotal += rows.length;
            batches += 1;
            request.onProgress(progress());
          }
          await new Promise((resolve) => setTimeout(resolve, batchDelayMs)); // idle poll / yield
        }
        return progress();
      } finally {
        this.running -= 1;
      }
    };
  }
}
