// The exactly-once micro-batch streamer: consume -> decode -> score -> Delta (+ search, alerts, DLQ).
// The Delta logs commit is the checkpoint: its txn per partition (appId "<topic>-<partition>",
// version = last offset of the partition in the batch) says how far each partition is written. On
// every assignment the streamer reads those versions and seeks to version + 1; Kafka group offsets
// are committed afterwards only so lag is visible.
import { pino, type Logger } from 'pino';
import type { ConsumedMessage, GroupConsumer, KafkaClient, MessageProducer, PartitionBatch } from '../clients/kafka/index.js';
import { decodeMessage } from '../logs/decode.js';
import { ClientWindow } from '../ml/clientWindow.js';
import type { ModelWatcher, Scorer } from '../ml/scorer.js';
import { aggregatePerMinute } from './aggregate.js';
import { PartitionPositions, PendingBatch, lastOffsets, type BatchLimits } from './batch.js';
import { PlaceholderScorer } from './scorer.js';
import { txnAppId, type LakehouseSinks, type ScoredRecord, type SearchSink, type TableSink, type TxnMarker } from './sinks.js';
import { anomaliesTable, logsTable, metricsTable, quarantineTable, type PartitionAggregate, type QuarantinedMessage } from './tables.js';
import { SearchBacklog } from './searchBacklog.js';
import { StreamerFailedError } from './errors.js';

export interface StreamerOptions {
  kafka: KafkaClient;
  topic: string;
  groupId: string;
  dlqTopic: string;
  anomaliesTopic: string;
  limits: BatchLimits;
  maxMessageBytes: number;
  sinks: LakehouseSinks;
  /** Search engine sink; indexing failures never stop the stream (see SearchBacklog). */
  search?: SearchSink;
  /** Picks up new model versions between batches; without it (or before a model loads) PlaceholderScorer scores. */
  models?: ModelWatcher;
  /** Called after every committed batch and at most every few seconds otherwise. */
  onProgress?(progress: StreamerProgress): void;
  signal?: AbortSignal;
  logger?: Logger;
  /** Broker session timeout: how soon a killed streamer's partitions move (default 10 s). */
  sessionTimeoutMs?: number;
}

export interface StreamerCounters {
  messages: number;
  committedRows: number;
  quarantined: number;
  anomalies: number;
  batches: number;
  duplicateBatches: number;
  searchIndexed: number;
  searchFailures: number;
  /** Records written to Delta but not yet indexed because the search engine failed. */
  searchBacklog: number;
}

export interface StreamerProgress {
  /** Last offset committed to the Delta logs table, per owned partition (as decimal strings; -1 = none). */
  committedOffsets: Record<number, string>;
  counters: StreamerCounters;
  /** Rows committed per second since the streamer started. */
  rowsPerSecond: number;
  lastCommitTimeMs: number | null;
  modelVersion: string;
}

/** Where the streamer stopped: resume always comes from Delta, this is for humans and heartbeats. */
export type StreamerPosition = StreamerProgress;

interface AcceptedGood {
  kind: 'good';
  partition: number;
  offset: bigint;
  record: ScoredRecord;
}

interface AcceptedBad {
  kind: 'bad';
  partition: number;
  offset: bigint;
  message: QuarantinedMessage;
}

type Accepted = AcceptedGood | AcceptedBad;

type TableName = keyof LakehouseSinks;
const TABLES: TableName[] = ['quarantine', 'anomalies', 'metrics', 'logs'];
const TICK_MS = 20;
const APPEND_ATTEMPTS = 5;

export class Streamer {
  private readonly options: StreamerOptions;
  private readonly logger: Logger;
  private readonly positions = new PartitionPositions();
  private readonly pending = new PendingBatch<Accepted>();
  /** Last offset in each table per owned partition, so a replayed range never enters a table twice. */
  private readonly committed: Record<TableName, Map<number, bigint>> = {
    logs: new Map(), anomalies: new Map(), metrics: new Map(), quarantine: new Map(),
  };
  private readonly placeholder = new PlaceholderScorer();
  private readonly clientWindow = new ClientWindow();
  private readonly searchBacklog: SearchBacklog;
  private readonly counters: StreamerCounters = {
    messages: 0, committedRows: 0, quarantined: 0, anomalies: 0, batches: 0, duplicateBatches: 0,
    searchIndexed: 0, searchFailures: 0, searchBacklog: 0,
  };
  private consumer?: GroupConsumer;
  private producer?: MessageProducer;
  /** Serialises assignment handling, message intake and flushes: one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private timer?: NodeJS.Timeout;
  private startedMs = Date.now();
  private lastCommitTimeMs: number | null = null;
  private lastProgressMs = 0;
  private stopping = false;
  private finished?: { resolve: () => void; reject: (error: Error) => void; promise: Promise<void> };
  private fatalError?: Error;
  private pendingAlerts: Promise<void>[] = [];

  constructor(options: StreamerOptions) {
    this.options = options;
    this.logger = options.logger ?? pino({ name: 'streamer' }, pino.destination(2));
    this.searchBacklog = new SearchBacklog();
  }

  /** Runs until stop() or the abort signal; resolves with the final position, rejects on a fatal error. */
  async run(): Promise<StreamerPosition> {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((resolvePromise, rejectPromise) => {
      resolve = resolvePromise;
      reject = rejectPromise;
    });
    this.finished = { resolve, reject, promise };
    this.startedMs = Date.now();
    const { kafka, topic } = this.options;
    const onAbort = () => void this.stop();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.all([
        kafka.ensureTopic(this.options.dlqTopic, 1),
        kafka.ensureTopic(this.options.anomaliesTopic, 1),
      ]);
      this.producer = await kafka.createProducer();
      this.consumer = kafka.createConsumer({ groupId: this.options.groupId, sessionTimeoutMs: this.options.sessionTimeoutMs });
      await this.consumer.start(topic, {
        onAssigned: (assignment) => this.onAssigned(assignment.get(topic) ?? []),
        onBatch: (batch, control) => this.onBatch(batch, control.heartbeat),
        onCrash: (error, restarting) => {
          this.logger.warn({ error: error.message, restarting }, 'kafka consumer crashed');
          if (!restarting) this.fail(new StreamerFailedError(`Kafka consumer stopped: ${error.message}`, error));
        },
      });
      this.timer = setInterval(() => this.onTick(), TICK_MS);
      if (this.options.signal?.aborted) void this.stop();
      await promise;
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      if (this.timer) clearInterval(this.timer);
      await this.shutdown();
    }
    return this.progress();
  }

  /** Finishes the batch in hand (commits it), leaves the group and makes run() return. */
  async stop(): Promise<StreamerPosition> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.timer) clearInterval(this.timer);
      this.consumer?.pause(this.options.topic, this.positions.owned());
      this.enqueue(() => this.flush());
      this.enqueue(async () => this.finished?.resolve());
    }
    await this.finished?.promise.catch(() => undefined);
    return this.progress();
  }

  progress(): StreamerProgress {
    const committedOffsets: Record<number, string> = {};
    for (const partition of this.positions.owned()) {
      committedOffsets[partition] = (this.committed.logs.get(partition) ?? -1n).toString();
    }
    const elapsedSeconds = Math.max((Date.now() - this.startedMs) / 1000, 0.001);
    return {
      committedOffsets,
      counters: { ...this.counters, searchBacklog: this.searchBacklog.size },
      rowsPerSecond: this.counters.committedRows / elapsedSeconds,
      lastCommitTimeMs: this.lastCommitTimeMs,
      modelVersion: this.scorer().modelVersion,
    };
  }

  private scorer(): Scorer {
    return this.options.models?.current() ?? this.placeholder;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.fatalError) return;
      try {
        await task();
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
    this.queue = next;
    return next;
  }

  private fail(error: Error): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.logger.error({ error: error.message }, 'streamer stopped on an error');
    this.finished?.reject(error);
  }

  /** Group assignment (start, rebalance, consumer restart): reset positions from the Delta txns. */
  private onAssigned(partitions: number[]): void {
    const { topic } = this.options;
    // Stop fetching until we know where each partition really resumes.
    if (partitions.length) this.consumer?.pause(topic, partitions);
    void this.enqueue(async () => {
      const assigned = new Set(partitions);
      for (const partition of this.positions.owned()) {
        if (!assigned.has(partition)) {
          this.positions.revoke(partition);
          for (const table of TABLES) this.committed[table].delete(partition);
        }
      }
      const dropped = this.pending.dropPartitions((partition) => assigned.has(partition));
      if (dropped) this.logger.info({ dropped }, 'dropped pending rows of partitions that moved to another streamer');
      const versions = await Promise.all(partitions.map((partition) => this.readVersions(partition)));
      partitions.forEach((partition, index) => {
        const tableVersions = versions[index]!;
        for (const table of TABLES) this.committed[table].set(partition, tableVersions[table]);
        // Pending rows of a partition we keep stay valid; otherwise resume right after the logs commit.
        if (!this.positions.owns(partition)) this.positions.assign(partition, tableVersions.logs);
        this.consumer?.seek(topic, partition, this.positions.nextOffset(partition)!);
      });
      this.logger.info(
        { partitions: Object.fromEntries(partitions.map((partition) => [partition, this.positions.nextOffset(partition)!.toString()])) },
        'partitions assigned; resuming after the Delta txn versions',
      );
      if (partitions.length && !this.stopping) this.consumer?.resume(topic, partitions);
    });
  }

  private async readVersions(partition: number): Promise<Record<TableName, bigint>> {
    const { sinks, topic } = this.options;
    const entries = await Promise.all(
      TABLES.map(async (table) => [table, (await sinks[table].txnVersion(txnAppId(table, topic, partition))) ?? -1n] as const),
    );
    return Object.fromEntries(entries) as Record<TableName, bigint>;
  }

  private async onBatch(batch: PartitionBatch, heartbeat: () => Promise<void>): Promise<void> {
    // Awaiting the queue here is the back-pressure: kafkajs fetches no more while a flush is writing.
    await this.enqueue(() => this.intake(batch));
    if (this.pending.isFull(this.options.limits)) await this.enqueue(() => this.flush());
    await heartbeat().catch(() => undefined);
    if (this.fatalError) throw this.fatalError;
  }

  /** Decodes and scores new messages of one fetch, sends alerts right away, and buffers the rows. */
  private async intake(batch: PartitionBatch): Promise<void> {
    if (this.stopping) return;
    const fresh = batch.messages.filter((message) => this.positions.accept(batch.partition, message.offset));
    if (fresh.length === 0) return;
    this.counters.messages += fresh.length;
    const ingestTimeMs = Date.now();
    const good: Array<{ message: ConsumedMessage; record: Omit<ScoredRecord, 'anomalyScore' | 'isAnomaly' | 'cluster' | 'modelVersion' | 'reasons'> }> = [];
    const accepted: Accepted[] = [];
    for (const message of fresh) {
      const decoded = decodeMessage(message.value, { maxMessageBytes: this.options.maxMessageBytes, nowMs: ingestTimeMs });
      if (decoded.ok) {
        good.push({
          message,
          record: {
            ...decoded.event,
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            kafkaTimestampMs: message.timestampMs,
            ingestTimeMs,
          },
        });
      } else {
        accepted.push({
          kind: 'bad',
          partition: batch.partition,
          offset: message.offset,
          message: {
            topic: batch.topic, partition: batch.partition, offset: message.offset, kafkaTimestampMs: message.timestampMs,
            ingestTimeMs, value: message.value, rejection: decoded.rejection,
          },
        });
      }
    }
    const scores = good.length ? await this.scorer().score(good.map((entry) => entry.record), this.clientWindow) : [];
    const alerts: ScoredRecord[] = [];
    good.forEach((entry, index) => {
      const score = scores[index]!;
      const record: ScoredRecord = {
        ...entry.record,
        anomalyScore: score.score,
        isAnomaly: score.isAnomaly,
        cluster: score.cluster,
        modelVersion: score.modelVersion,
        reasons: (score.reasons ?? []).map((reason) => reason.feature),
      };
      if (record.isAnomaly) alerts.push(record);
      accepted.push({ kind: 'good', partition: batch.partition, offset: entry.message.offset, record });
    });
    accepted.sort((left, right) => (left.offset < right.offset ? -1 : left.offset > right.offset ? 1 : 0));
    for (const row of accepted) this.pending.add(row, ingestTimeMs);
    if (alerts.length) this.sendAlerts(alerts);
  }

  /** Alerts go out before the Delta commit (latency matters); at-least-once, id = topic-partition-offset. */
  private sendAlerts(records: ScoredRecord[]): void {
    const sending = this.producer!
      .send(this.options.anomaliesTopic, records.map((record) => ({ key: `${record.topic}-${record.partition}-${record.offset}`, value: alertJson(record) })))
      .catch((error: unknown) => this.logger.warn({ error: (error as Error).message }, 'could not send anomaly alerts'));
    this.pendingAlerts.push(sending);
  }

  private onTick(): void {
    if (this.flushQueued || this.stopping || !this.pending.isDue(Date.now(), this.options.limits)) {
      this.maybeReportProgress();
      return;
    }
    this.flushQueued = true;
    void this.enqueue(() => this.flush()).finally(() => {
      this.flushQueued = false;
    });
  }

  private maybeReportProgress(): void {
    if (!this.options.onProgress || Date.now() - this.lastProgressMs < 2000) return;
    this.lastProgressMs = Date.now();
    this.options.onProgress(this.progress());
  }

  /** Writes the pending batch: DLQ + quarantine, anomalies, metrics, then the logs commit (the checkpoint). */
  private async flush(): Promise<void> {
    const rows = this.pending.take();
    if (rows.length === 0) return;
    const { topic } = this.options;
    const batchLastOffsets = lastOffsets(rows);
    const good = rows.filter((row): row is AcceptedGood => row.kind === 'good').map((row) => row.record);
    const bad = rows.filter((row): row is AcceptedBad => row.kind === 'bad').map((row) => row.message);

    const newBad = bad.filter((message) => message.offset > (this.committed.quarantine.get(message.partition) ?? -1n));
    if (newBad.length) {
      await this.producer!.send(this.options.dlqTopic, newBad.map(dlqMessage));
      await this.appendOnce('quarantine', quarantineTable(newBad), batchLastOffsets, newBad);
    }
    const newAnomalies = good.filter((record) => record.isAnomaly && record.offset > (this.committed.anomalies.get(record.partition) ?? -1n));
    if (newAnomalies.length) await this.appendOnce('anomalies', anomaliesTable(newAnomalies), batchLastOffsets, newAnomalies);
    const aggregates = this.aggregate(good.filter((record) => record.offset > (this.committed.metrics.get(record.partition) ?? -1n)), batchLastOffsets);
    if (aggregates.length) await this.appendOnce('metrics', metricsTable(aggregates), batchLastOffsets, aggregates);

    const outcome = await this.appendOnce('logs', logsTable(good), batchLastOffsets, good);
    await Promise.all(this.pendingAlerts.splice(0));
    this.counters.batches += 1;
    if (outcome === 'duplicate') {
      this.counters.duplicateBatches += 1;
    } else {
      this.counters.committedRows += good.length;
      this.counters.quarantined += newBad.length;
      this.counters.anomalies += newAnomalies.length;
      this.lastCommitTimeMs = Date.now();
      const nextOffsets = new Map([...batchLastOffsets].map(([partition, offset]) => [partition, offset + 1n]));
      this.consumer?.commitOffsets(topic, nextOffsets).catch((error: unknown) => {
        this.logger.debug({ error: (error as Error).message }, 'group offset commit failed (lag display only)');
      });
      if (this.options.search) this.searchBacklog.add(good);
    }
    if (this.options.search) await this.indexSearch(this.options.search);
    if (this.options.onProgress) {
      this.lastProgressMs = Date.now();
      this.options.onProgress(this.progress());
    }
    await this.options.models?.check();
  }

  /** Per-minute aggregates of each partition's rows, so every row can carry its partition's txn. */
  private aggregate(records: ScoredRecord[], batchLastOffsets: Map<number, bigint>): PartitionAggregate[] {
    const byPartition = new Map<number, ScoredRecord[]>();
    for (const record of records) (byPartition.get(record.partition) ?? byPartition.set(record.partition, []).get(record.partition)!).push(record);
    return [...byPartition].flatMap(([partition, partitionRecords]) =>
      aggregatePerMinute(partitionRecords).map((aggregate) => ({
        ...aggregate,
        topic: this.options.topic,
        partition,
        batchLastOffset: batchLastOffsets.get(partition)!,
        modelVersion: partitionRecords[0]!.modelVersion,
      })),
    );
  }

  /**
   * One commit of rows with a txn per partition of the batch. 'duplicate' means another writer
   * already committed past this batch (the partition moved mid-flight); the rows are dropped.
   */
  private async appendOnce(
    table: TableName,
    rows: Parameters<TableSink['append']>[0],
    batchLastOffsets: Map<number, bigint>,
    _rowsForCount: readonly unknown[],
  ): Promise<'committed' | 'duplicate'> {
    const { topic, sinks } = this.options;
    const txns: TxnMarker[] = [...batchLastOffsets].map(([partition, version]) => ({ appId: txnAppId(table, topic, partition), version }));
    let lastError: unknown;
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt += 1) {
      try {
        const outcome = await sinks[table].append(rows, txns);
        for (const [partition, version] of batchLastOffsets) {
          if (version > (this.committed[table].get(partition) ?? -1n)) this.committed[table].set(partition, version);
        }
        if (outcome.kind === 'duplicate') {
          this.logger.warn({ table, txns: txns.map((txn) => `${txn.appId}@${txn.version}`) }, 'batch already committed by another writer; dropped');
          return 'duplicate';
        }
        return 'committed';
      } catch (error) {
        lastError = error;
        this.logger.warn({ table, attempt, error: (error as Error).message }, 'Delta append failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
    throw new StreamerFailedError(`cannot append to Delta table ${table}: ${(lastError as Error).message}`, lastError);
  }

  /** Indexes what Delta has and search lacks; a search outage only grows the backlog. */
  private async indexSearch(search: SearchSink): Promise<void> {
    while (this.searchBacklog.size > 0) {
      const chunk = this.searchBacklog.peek(5000);
      try {
        await search.index(chunk);
      } catch (error) {
        this.counters.searchFailures += 1;
        if (this.counters.searchFailures % 10 === 1) {
          this.logger.warn({ error: (error as Error).message, backlog: this.searchBacklog.size }, 'search indexing failed; Delta keeps flowing, search catches up later');
        }
        return;
      }
      this.searchBacklog.drop(chunk.length);
      this.counters.searchIndexed += chunk.length;
    }
  }

  private async shutdown(): Promise<void> {
    await this.queue.catch(() => undefined);
    await Promise.all(this.pendingAlerts.splice(0));
    await this.consumer?.stop().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
  }
}

function alertJson(record: ScoredRecord): string {
  return JSON.stringify({
    id: `${record.topic}-${record.partition}-${record.offset}`,
    detected_at: new Date().toISOString(),
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
      kafka: { topic: record.topic, partition: record.partition, offset: record.offset.toString(), timestamp_ms: record.kafkaTimestampMs },
    },
  });
}

function dlqMessage(message: QuarantinedMessage) {
  return {
    key: `${message.topic}-${message.partition}-${message.offset}`,
    value: message.value,
    headers: {
      'logstream.reason_code': message.rejection.code,
      'logstream.reason': message.rejection.message,
      'logstream.source': `${message.topic}/${message.partition}/${message.offset}`,
    },
  };
}
