// Anomaly alerts on kafka.anomalies_topic and dead letters on kafka.dlq_topic: the message formats,
// and an outbox that sends alerts at least once without ever holding up the Delta commits.
//
// An alert goes out as soon as its row is scored (latency matters), before the row is committed.
// Once the range is committed the alerts are reconciled with the rows the logs table holds: an
// alert whose committed row is not anomalous (the range was committed by another streamer, or
// re-scored after a resync) is retracted under the same id, and a committed anomaly that was
// never alerted (read back after a crash) is sent. How far every committed anomaly's alert is
// acknowledged is recorded per partition (the alerts watermark), so a restart sends what is missing.
// Alerts other owners sent for rows they never committed are taken over (alertHistory.ts) and
// reconciled in the same way.
import type { Logger } from 'pino';
import type { MessageProducer, OutgoingMessage } from '../clients/kafka/index.js';
import { observeAlerts } from './metrics.js';
import type { ScoredRecord } from './sinks.js';
import type { QuarantinedMessage } from './tables.js';

/** The stable id of a record's alert (and search document): consumers drop repeats by it. */
export function recordId(record: { topic: string; partition: number; offset: bigint }): string {
  return `${record.topic}-${record.partition}-${record.offset}`;
}

export function alertMessage(record: ScoredRecord, detectedAtMs = Date.now()): OutgoingMessage {
  const id = recordId(record);
  return {
    key: id,
    value: JSON.stringify({
      id,
      detected_at: new Date(detectedAtMs).toISOString(),
      score: record.anomalyScore,
      cluster: record.cluster,
      model_version: record.modelVersion,
      reasons: record.reasons,
      record: {
        timestamp: new Date(record.timestampMs).toISOString(),
        client_ip: record.clientIp,
        method: record.method,
        path: record.path,
        path_template: record.pathTemplate,
        status: record.status,
        response_time_ms: record.responseTimeMs,
        bytes: record.responseBytes,
        user_agent: record.userAgent,
        kafka: {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset.toString(),
          timestamp_ms: record.kafkaTimestampMs,
        },
      },
    }),
  };
}

/** Withdraws an alert whose committed row is not anomalous. */
export function retractionMessage(id: string, nowMs = Date.now()): OutgoingMessage {
  return {
    key: id,
    value: JSON.stringify({
      id,
      retracted: true,
      retracted_at: new Date(nowMs).toISOString(),
      reason: 'the committed row is not anomalous',
    }),
  };
}

/** Dead letters keep their payload up to this many bytes (the quarantine table keeps all of it). */
export const DEAD_LETTER_MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * A bad message for the dead-letter topic: the raw value (cut to a bounded size, flagged, with its
 * original size, so a huge message can never exceed what the broker accepts and stop its
 * partition) and headers with the reason and where it came from.
 */
export function deadLetterMessage(message: QuarantinedMessage, maxPayloadBytes = DEAD_LETTER_MAX_PAYLOAD_BYTES): OutgoingMessage {
  const size = message.value?.length ?? 0;
  const truncated = size > maxPayloadBytes;
  return {
    key: `${message.topic}-${message.partition}-${message.offset}`,
    value: truncated ? message.value!.subarray(0, maxPayloadBytes) : message.value,
    headers: {
      'logstream.reason_code': message.rejection.code,
      'logstream.reason': message.rejection.message,
      'logstream.source': `${message.topic}/${message.partition}/${message.offset}`,
      'logstream.original_bytes': String(size),
      ...(truncated ? { 'logstream.truncated': 'true' } : {}),
    },
  };
}

interface AlertState {
  /** Messages for the offset (an alert, a retraction) queued and not yet acknowledged. */
  unacked: number;
  /** Reconciled with the committed row. */
  committed: boolean;
}

interface PartitionAlerts {
  /** Alerts and retractions by offset, until acknowledged and committed. */
  byOffset: Map<bigint, AlertState>;
  /** Logs version through which committed rows were reconciled. */
  reconciledThrough: bigint;
  /**
   * While the alerts of earlier owners are read back: the committed ranges to reconcile once they
   * are known, with their anomalous rows, in order.
   */
  waiting?: { through: bigint; anomalous: ScoredRecord[] }[];
  /** Read-backs not finished yet. */
  reads?: number;
}

interface Outgoing {
  partition: number;
  offset: bigint;
  message: OutgoingMessage;
  kafkaTimestampMs?: number;
}

export interface AlertOutboxOptions {
  /** The alerts topic. */
  topic: string;
  /** The topic the logs are read from (alert ids name it). */
  sourceTopic: string;
  producer: () => MessageProducer | undefined;
  logger: Logger;
  /** Largest number of alerts per produce request. */
  sendChunk?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class AlertOutbox {
  private readonly partitions = new Map<number, PartitionAlerts>();
  private queue: Outgoing[] = [];
  private running?: Promise<void>;
  private closed = false;
  private failures = 0;
  private wake?: () => void;

  constructor(private readonly options: AlertOutboxOptions) {}

  /** Starts owning a partition whose committed anomalies are alerted through `watermark`. */
  assign(partition: number, watermark: bigint): void {
    this.partitions.set(partition, { byOffset: new Map(), reconciledThrough: watermark });
  }

  /**
   * Alerts that other owners of the partition may have sent after what is reconciled: `earlier`
   * resolves with their offsets, which are then reconciled like this outbox's own alerts
   * (retracted unless the committed row is anomalous). Committed ranges wait for them.
   */
  takeOver(partition: number, earlier: Promise<readonly bigint[]>): void {
    const state = this.partitions.get(partition);
    if (!state) return;
    state.waiting ??= [];
    state.reads = (state.reads ?? 0) + 1;
    earlier.then(
      (offsets) => this.adopt(partition, state, offsets),
      (error: unknown) => {
        this.options.logger.warn(
          { partition, error: (error as Error).message },
          'could not read back the alerts other owners sent; those of rows they never committed are not retracted',
        );
        this.adopt(partition, state, []);
      },
    );
  }

  /** Adds other owners' alerts (unless the partition moved on meanwhile); after the last read, reconciles the ranges that waited. */
  private adopt(partition: number, state: PartitionAlerts, offsets: readonly bigint[]): void {
    if (this.partitions.get(partition) !== state) return;
    let adopted = 0;
    for (const offset of offsets) {
      if (offset <= state.reconciledThrough || state.byOffset.has(offset)) continue;
      state.byOffset.set(offset, { unacked: 0, committed: false });
      adopted += 1;
    }
    if (adopted) this.options.logger.info({ partition, alerts: adopted }, 'took over alerts sent by other owners of the partition');
    state.reads! -= 1;
    if (state.reads! > 0) return;
    const waiting = state.waiting ?? [];
    state.waiting = undefined;
    for (const range of waiting) this.committed(partition, range.through, range.anomalous);
  }

  revoke(partition: number): void {
    this.partitions.delete(partition);
  }

  /** Alerts for freshly scored anomalies, sent now (an offset already alerted is not sent again). */
  detected(records: readonly ScoredRecord[]): void {
    const detectedAtMs = Date.now();
    for (const record of records) {
      const state = this.partitions.get(record.partition);
      if (!state || state.byOffset.has(record.offset) || record.offset <= state.reconciledThrough) continue;
      state.byOffset.set(record.offset, { unacked: 1, committed: false });
      this.queue.push({
        partition: record.partition,
        offset: record.offset,
        message: alertMessage(record, detectedAtMs),
        kafkaTimestampMs: record.kafkaTimestampMs,
      });
    }
    this.kick();
  }

  /**
   * The logs table holds the partition's rows through `through`; `rows` are its rows after the
   * version reconciled last (every one of them, or at least every anomalous one and every one
   * this outbox alerted). Alerts the rows do not confirm are retracted; anomalies never alerted
   * are sent.
   */
  committed(partition: number, through: bigint, rows: readonly ScoredRecord[]): void {
    const state = this.partitions.get(partition);
    if (!state || through <= state.reconciledThrough) return;
    if (state.waiting) {
      state.waiting.push({ through, anomalous: rows.filter((row) => row.isAnomaly) });
      return;
    }
    const after = state.reconciledThrough;
    const anomalous = new Map<bigint, ScoredRecord>();
    for (const row of rows) if (row.isAnomaly && row.offset > after && row.offset <= through) anomalous.set(row.offset, row);
    for (const [offset, alert] of state.byOffset) {
      if (offset <= after || offset > through || alert.committed) continue;
      alert.committed = true;
      if (anomalous.has(offset)) continue;
      const id = recordId({ topic: this.options.sourceTopic, partition, offset });
      alert.unacked += 1;
      this.queue.push({ partition, offset, message: retractionMessage(id) });
    }
    for (const [offset, row] of anomalous) {
      if (state.byOffset.has(offset) || offset <= state.reconciledThrough) continue;
      state.byOffset.set(offset, { unacked: 1, committed: true });
      this.queue.push({ partition, offset, message: alertMessage(row) });
    }
    state.reconciledThrough = through;
    this.forgetSettled(state);
    this.kick();
  }

  /** The logs version through which the partition's committed rows were reconciled. */
  reconciled(partition: number): bigint | undefined {
    return this.partitions.get(partition)?.reconciledThrough;
  }

  /** Where a partition's alerts watermark can be recorded: every committed anomaly through it is acknowledged. */
  watermark(partition: number): bigint | undefined {
    const state = this.partitions.get(partition);
    if (!state) return undefined;
    let through = state.reconciledThrough;
    for (const [offset, alert] of state.byOffset) if (alert.committed && alert.unacked > 0 && offset - 1n < through) through = offset - 1n;
    return through;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Sends what is queued, for up to timeoutMs (a clean stop), then stops the sender. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length && Date.now() < deadline) {
      this.kick();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.closed = true;
    this.wake?.();
    await this.running;
    if (this.queue.length)
      this.options.logger.warn({ alerts: this.queue.length }, 'alerts not sent before stop; the next streamer sends them');
  }

  private forgetSettled(state: PartitionAlerts): void {
    for (const [offset, alert] of state.byOffset) if (alert.unacked === 0 && alert.committed) state.byOffset.delete(offset);
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.wake?.();
      return;
    }
    this.running = this.sendLoop().finally(() => {
      this.running = undefined;
      if (this.queue.length && !this.closed) this.kick();
    });
  }

  private async sendLoop(): Promise<void> {
    const chunk = this.options.sendChunk ?? 500;
    while (this.queue.length && !this.closed) {
      const producer = this.options.producer();
      const sending = this.queue.slice(0, chunk);
      try {
        if (!producer) throw new Error('no producer yet');
        await producer.send(
          this.options.topic,
          sending.map((entry) => entry.message),
        );
      } catch (error) {
        this.failures += 1;
        if (this.failures % 20 === 1)
          this.options.logger.warn(
            { error: (error as Error).message, queued: this.queue.length },
            'could not send anomaly alerts; retrying',
          );
        const delayMs = Math.min(
          this.options.maxBackoffMs ?? 5_000,
          (this.options.initialBackoffMs ?? 100) * 2 ** Math.min(this.failures, 10),
        );
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, delayMs);
        });
        continue;
      }
      this.failures = 0;
      this.queue.splice(0, sending.length);
      const sentAtMs = Date.now();
      observeAlerts(
        sending.flatMap((entry) => (entry.kafkaTimestampMs === undefined ? [] : [entry.kafkaTimestampMs])),
        sentAtMs,
      );
      for (const entry of sending) {
        const state = this.partitions.get(entry.partition);
        const alert = state?.byOffset.get(entry.offset);
        if (!state || !alert) continue;
        alert.unacked -= 1;
        if (alert.unacked === 0 && alert.committed) state.byOffset.delete(entry.offset);
      }
    }
  }
}
