// Alerts an earlier owner of a partition sent for rows it never committed. Alerts go out as rows
// are scored, before their batch commits; a streamer that dies or loses the partition first leaves
// alerts behind that no committed row may confirm: the next owner scores the rows again with a
// client window of its own and may find them normal. So a streamer taking a partition over reads
// the alerts topic back and hands those alerts to its outbox, which retracts each one the committed
// row does not confirm, as it does its own.
import type { ConsumedMessage, KafkaClient } from '../clients/kafka/index.js';

/**
 * How far before a partition's last logs commit the read-back starts. Rows after that commit were
 * scored after the rows it holds were fetched, so their alerts went out at most about one batch
 * before it; this covers batches that waited their whole latency budget and slow commits, with room.
 */
export const ALERT_READ_BACK_MARGIN_MS = 120_000;

/** The partition and offset an alert id of sourceTopic names ("<topic>-<partition>-<offset>"), else undefined. */
export function alertKeyOffset(key: string, sourceTopic: string): { partition: number; offset: bigint } | undefined {
  if (key.length <= sourceTopic.length + 1 || !key.startsWith(sourceTopic) || key[sourceTopic.length] !== '-') return undefined;
  const match = /^(\d+)-(\d+)$/.exec(key.slice(sourceTopic.length + 1));
  return match ? { partition: Number(match[1]), offset: BigInt(match[2]!) } : undefined;
}

/**
 * Per partition, the offsets after a given one whose latest message on the alerts topic is an
 * alert rather than a retraction (one id's messages share a key, so they are in order).
 */
export class EarlierAlerts {
  private readonly alerted = new Map<number, Set<bigint>>();

  constructor(
    private readonly sourceTopic: string,
    private readonly after: ReadonlyMap<number, bigint>,
  ) {
    for (const partition of after.keys()) this.alerted.set(partition, new Set());
  }

  add(messages: readonly ConsumedMessage[]): void {
    for (const message of messages) {
      if (message.key === null || message.value === null) continue;
      const named = alertKeyOffset(message.key.toString(), this.sourceTopic);
      if (!named) continue;
      const after = this.after.get(named.partition);
      if (after === undefined || named.offset <= after) continue;
      const offsets = this.alerted.get(named.partition)!;
      if (isRetraction(message.value)) offsets.delete(named.offset);
      else offsets.add(named.offset);
    }
  }

  offsets(partition: number): bigint[] {
    return [...(this.alerted.get(partition) ?? [])].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
  }
}

function isRetraction(value: Buffer): boolean {
  try {
    return (JSON.parse(value.toString()) as { retracted?: unknown }).retracted === true;
  } catch {
    return false;
  }
}

interface ReadBackRequest {
  partition: number;
  after: bigint;
  sinceMs: number;
  resolve: (offsets: bigint[]) => void;
  reject: (error: Error) => void;
}

/**
 * Reads the alerts topic back for partitions as they are assigned: requests queued until flush()
 * share one read, from the earliest time any of them needs.
 */
export class AlertHistoryReader {
  private requests: ReadBackRequest[] = [];

  constructor(
    private readonly kafka: KafkaClient,
    private readonly alertsTopic: string,
    private readonly sourceTopic: string,
  ) {}

  /** The partition's offsets after `after` alerted since sinceMs and not retracted; read at the next flush. */
  request(partition: number, after: bigint, sinceMs: number): Promise<bigint[]> {
    return new Promise((resolve, reject) => this.requests.push({ partition, after, sinceMs, resolve, reject }));
  }

  /** Starts one read for every queued request. */
  flush(): void {
    const requests = this.requests;
    this.requests = [];
    if (!requests.length) return;
    const earlier = new EarlierAlerts(this.sourceTopic, new Map(requests.map((request) => [request.partition, request.after])));
    const sinceMs = Math.min(...requests.map((request) => request.sinceMs));
    this.kafka
      .readSince(this.alertsTopic, sinceMs, (messages) => earlier.add(messages))
      .then(
        () => {
          for (const request of requests) request.resolve(earlier.offsets(request.partition));
        },
        (error: unknown) => {
          for (const request of requests) request.reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
  }
}
