// The exactly-once micro-batch streamer: consume -> decode -> score -> Delta (+ search, alerts, DLQ).
// The Delta logs commit is the checkpoint: its txn per partition (appId "<topic>-<partition>",
// version = last offset of the partition in the batch) says how far each partition is written. On
// every assignment the streamer reads those versions and seeks to version + 1; Kafka group offsets
// are committed afterwards only so lag is visible.
import { pino, type Logger } from 'pino';
import type { GroupConsumer, KafkaClient, MessageProducer, PartitionBatch } from '../clients/kafka/index.js';
import { decodeMessage, type Decoder } from '../logs/decode.js';
import { ClientWindow } from '../ml/clientWindow.js';
import type { ModelWatcher, Scorer } from '../ml/scorer.js';
import { aggregatePerMinute } from './aggregate.js';
import { PartitionPositions, PendingBatch, lastOffsets, type BatchLimits } from './batch.js';
import { PlaceholderScorer } from './scorer.js';
import {
  searchAppId,
  txnAppId,
  type AppendOutcome,
  type LakehouseSinks,
  type ScoredRecord,
  type SearchSink,
  type TableAppend,
  type TableAppendResult,
  type TableName,
  type TableSink,
  type TxnMarker,
} from './sinks.js';
import { anomaliesTable, logsTable, metricsTable, quarantineTable, type PartitionAggregate, type QuarantinedMessage } from './tables.js';
import { SearchBacklog } from './searchBacklog.js';
import { StreamerFailedError } from './errors.js';
import { activeBackend } from '../ml/backend.js';
import { markStreamerHeartbeat, forgetStreamerHeartbeat } from '../clients/metrics/index.js';
import {
  observeAlerts,
  observeBatch,
  observeDeltaCommit,
  observeDeltaConflict,
  observeIntake,
  observeModel,
  observeSearchBulk,
} from './metrics.js';

export interface StreamerOptions {
  kafka: KafkaClient;
  topic: string;
  groupId: string;
  dlqTopic: string;
  anomaliesTopic: string;
  limits: BatchLimits;
  maxMessageBytes: number;
  /** Mappings, time zone and event-time window of the topic (createDecoder); default: the default mappings and window. */
  decoder?: Decoder;
  sinks: LakehouseSinks;
  /** Search engine sink; indexing failures never stop the stream (see SearchBacklog). */
  search?: SearchSink;
  /** Picks up new model versions between batches; without it (or before a model loads) PlaceholderScorer scores. */
  models?: ModelWatcher;
  /** Called after each logs commit with the rows it wrote (latency measurement, metrics). */
  onBatchCommitted?(records: readonly ScoredRecord[], committedAtMs: number): void;
  /** Called after every committed batch and at most every few seconds otherwise. */
  onProgress?(progress: StreamerProgress): void;
  signal?: AbortSignal;
  logger?: Logger;
  /** Broker session timeout: how soon a killed streamer's partitions move (default 10 s). */
  sessionTimeoutMs?: number;
  /** Create the topic with this many partitions when it does not exist (the CLI passes kafka.partitions). */
  topicPartitions?: number;
  /** Committed rows kept in memory for the search engine; beyond, they are read back from Delta. */
  searchBacklogRows?: number;
  /** Name of this streamer in metrics (bounded: e.g. the pipeline slot), default "streamer". */
  name?: string;
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

/** A table's commit for one batch (see planCommit). */
interface CommitPlan<Row> {
  versions: Map<number, bigint>;
  rows: Row[];
  append: TableAppend;
}

const TABLES: TableName[] = ['quarantine', 'anomalies', 'metrics', 'logs'];
const TICK_MS = 20;
const APPEND_ATTEMPTS = 5;
const SEARCH_CHUNK_ROWS = 2500;
/** Messages decoded and scored between two turns of the event loop. */
const INTAKE_CHUNK_MESSAGES = 1000;
/** Fetched messages that may wait for intake while kafkajs fetches more. */
const READ_AHEAD_MESSAGES = 20_000;
const SEARCH_CONCURRENCY = 2;
const SEARCH_WATERMARK_INTERVAL_MS = 5000;
const SEARCH_DRAIN_ON_STOP_MS = 10_000;

export class Streamer {
  private readonly options: StreamerOptions;
  private readonly logger: Logger;
  private readonly positions = new PartitionPositions();
  private readonly pending = new PendingBatch<Accepted>();
  /** Last offset in each table per owned partition, so a replayed range never enters a table twice. */
  private readonly committed: Record<TableName, Map<number, bigint>> = {
    logs: new Map(),
    anomalies: new Map(),
    metrics: new Map(),
    quarantine: new Map(),
  };
  private readonly placeholder = new PlaceholderScorer();
  private observedScorer?: Scorer;
  private readonly clientWindow = new ClientWindow();
  private readonly searchBacklog: SearchBacklog;
  private readonly counters: StreamerCounters = {
    messages: 0,
    committedRows: 0,
    quarantined: 0,
    anomalies: 0,
    batches: 0,
    duplicateBatches: 0,
    searchIndexed: 0,
    searchFailures: 0,
    searchBacklog: 0,
  };
  private consumer?: GroupConsumer;
  private producer?: MessageProducer;
  /** Serialises assignment handling, message intake and flushes: one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private flushQueued = false;
  /** The last batch handed to the writer, settled once it and every batch before it are written. */
  private inFlight?: Promise<void>;
  /** The write the last batch is queued behind (see startFlush). */
  private queuedBehind?: Promise<void>;
  /** Batches handed to the writer and not yet written. */
  private writesInProgress = 0;
  /** Fetched messages waiting for (or in) intake. */
  private queuedMessages = 0;
  private timer?: NodeJS.Timeout;
  private startedMs = Date.now();
  private lastCommitTimeMs: number | null = null;
  private lastProgressMs = 0;
  private stopping = false;
  private finished?: { resolve: () => void; reject: (error: Error) => void; promise: Promise<void> };
  private fatalError?: Error;
  private pendingAlerts: Promise<void>[] = [];
  /** Per partition: logs txn version up to which every row is in the search engine. */
  private readonly searchIndexedThrough = new Map<number, bigint>();
  /** Per partition: the search watermark last written to the logs table. */
  private readonly searchPersisted = new Map<number, bigint>();
  private lastSearchPersistMs = 0;
  private searchLoopDone?: Promise<void>;
  private wakeSearch?: () => void;
  private searchStopped = false;

  constructor(options: StreamerOptions) {
    this.options = options;
    this.logger = options.logger ?? pino({ name: 'streamer' }, pino.destination(2));
    this.searchBacklog = new SearchBacklog(options.searchBacklogRows);
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
        this.options.topicPartitions ? kafka.ensureTopic(topic, this.options.topicPartitions) : undefined,
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
      if (this.options.search) this.searchLoopDone = this.searchLoop(this.options.search);
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
      this.enqueue(() => this.flushNow());
      this.enqueue(() => this.drainSearch(SEARCH_DRAIN_ON_STOP_MS));
      this.enqueue(() => this.persistSearchWatermarks(true));
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

  private get name(): string {
    return this.options.name ?? 'streamer';
  }

  /** Exports the model in use as an info metric when it changes. */
  private observeScorer(): void {
    const scorer = this.scorer();
    if (scorer === this.observedScorer) return;
    this.observedScorer = scorer;
    observeModel(scorer.modelVersion, scorer.featureSpecId, activeBackend() ?? 'none');
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
      // The batch in flight must land (or be refused as a duplicate) before positions are reset.
      await this.inFlight;
      const assigned = new Set(partitions);
      for (const partition of this.positions.owned()) {
        if (!assigned.has(partition)) {
          this.positions.revoke(partition);
          for (const table of TABLES) this.committed[table].delete(partition);
          this.searchIndexedThrough.delete(partition);
          this.searchPersisted.delete(partition);
        }
      }
      const dropped = this.pending.dropPartitions((partition) => assigned.has(partition));
      if (dropped) this.logger.info({ dropped }, 'dropped pending rows of partitions that moved to another streamer');
      const versions = await Promise.all(partitions.map((partition) => this.readVersions(partition)));
      partitions.forEach((partition, index) => {
        const tableVersions = versions[index]!;
        for (const table of TABLES) this.committed[table].set(partition, tableVersions[table]);
        // Pending rows of a partition we keep stay valid; otherwise resume right after the logs commit.
        if (!this.positions.owns(partition)) {
          this.positions.assign(partition, tableVersions.logs);
          if (this.options.search) {
            // Rows committed after the last search watermark (a crash, an outage) are read back from Delta.
            this.searchIndexedThrough.set(partition, tableVersions.search);
            this.searchPersisted.set(partition, tableVersions.search);
            this.searchBacklog.addRange(partition, tableVersions.search, tableVersions.logs);
            this.wakeSearch?.();
          }
        }
        this.consumer?.seek(topic, partition, this.positions.nextOffset(partition)!);
      });
      this.logger.info(
        { partitions: Object.fromEntries(partitions.map((partition) => [partition, this.positions.nextOffset(partition)!.toString()])) },
        'partitions assigned; resuming after the Delta txn versions',
      );
      if (partitions.length && !this.stopping) this.consumer?.resume(topic, partitions);
    });
  }

  private async readVersions(partition: number): Promise<Record<TableName | 'search', bigint>> {
    const { sinks, topic, search } = this.options;
    const entries = await Promise.all(
      TABLES.map(async (table) => [table, (await sinks[table].txnVersion(txnAppId(table, topic, partition))) ?? -1n] as const),
    );
    const searchVersion = search ? ((await sinks.logs.txnVersion(searchAppId(search.indexPrefix, topic, partition))) ?? -1n) : -1n;
    return { ...(Object.fromEntries(entries) as Record<TableName, bigint>), search: searchVersion };
  }

  private async onBatch(batch: PartitionBatch, heartbeat: () => Promise<void>): Promise<void> {
    this.queuedMessages += batch.messages.length;
    const intake = this.enqueue(async () => {
      try {
        // In chunks: a batch never grows past max rows, and the event loop turns between chunks so
        // the writer thread's replies (and alerts, heartbeats) are not held up by a large fetch.
        for (let start = 0; start < batch.messages.length && !this.stopping; ) {
          const room = Math.max(1, this.options.limits.maxRows - this.pending.size);
          const end = Math.min(batch.messages.length, start + Math.min(INTAKE_CHUNK_MESSAGES, room));
          await this.intake({ ...batch, messages: batch.messages.slice(start, end) });
          start = end;
          if (this.pending.isFull(this.options.limits)) await this.startFlush();
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        this.queuedMessages -= batch.messages.length;
      }
    });
    // Read-ahead: kafkajs fetches the next batch while this one is decoded, as long as little is
    // queued. Past that, awaiting the queue is the back-pressure: kafkajs fetches no more while
    // the writer is behind (intake waits for it in startFlush).
    if (this.queuedMessages > Math.max(READ_AHEAD_MESSAGES, this.options.limits.maxRows)) await intake;
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
    const intakeStartedMs = performance.now();
    const good: ScoredRecord[] = [];
    const accepted: Accepted[] = [];
    for (const message of fresh) {
      const decoded = decodeMessage(message.value, {
        maxMessageBytes: this.options.maxMessageBytes,
        nowMs: ingestTimeMs,
        decoder: this.options.decoder,
      });
      if (decoded.ok) {
        // One object per record, completed in place with its score below.
        const record = decoded.event as ScoredRecord;
        record.topic = batch.topic;
        record.partition = batch.partition;
        record.offset = message.offset;
        record.kafkaTimestampMs = message.timestampMs;
        record.ingestTimeMs = ingestTimeMs;
        good.push(record);
      } else {
        accepted.push({
          kind: 'bad',
          partition: batch.partition,
          offset: message.offset,
          message: {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            kafkaTimestampMs: message.timestampMs,
            ingestTimeMs,
            value: message.value,
            rejection: decoded.rejection,
          },
        });
      }
    }
    const scores = good.length ? await this.scorer().score(good, this.clientWindow) : [];
    const alerts: ScoredRecord[] = [];
    good.forEach((record, index) => {
      const score = scores[index]!;
      record.anomalyScore = score.score;
      record.isAnomaly = score.isAnomaly;
      record.cluster = score.cluster;
      record.modelVersion = score.modelVersion;
      record.reasons = score.reasons ? score.reasons.map((reason) => reason.feature) : [];
      if (record.isAnomaly) alerts.push(record);
      accepted.push({ kind: 'good', partition: batch.partition, offset: record.offset, record });
    });
    observeIntake(batch.topic, fresh.length, good, performance.now() - intakeStartedMs);
    this.observeScorer();
    if (accepted.length !== good.length)
      accepted.sort((left, right) => (left.offset < right.offset ? -1 : left.offset > right.offset ? 1 : 0));
    for (const row of accepted) this.pending.add(row, ingestTimeMs);
    if (alerts.length) this.sendAlerts(alerts);
  }

  /** Alerts go out before the Delta commit (latency matters); at-least-once, id = topic-partition-offset. */
  private sendAlerts(records: ScoredRecord[]): void {
    const sending = this.producer!.send(
      this.options.anomaliesTopic,
      records.map((record) => ({ key: `${record.topic}-${record.partition}-${record.offset}`, value: alertJson(record) })),
    )
      .then(() =>
        observeAlerts(
          records.map((record) => record.kafkaTimestampMs),
          Date.now(),
        ),
      )
      .catch((error: unknown) => this.logger.warn({ error: (error as Error).message }, 'could not send anomaly alerts'));
    this.pendingAlerts.push(sending);
  }

  private onTick(): void {
    if (
      this.options.search &&
      !this.flushQueued &&
      !this.stopping &&
      Date.now() - this.lastSearchPersistMs >= SEARCH_WATERMARK_INTERVAL_MS
    ) {
      this.lastSearchPersistMs = Date.now();
      void this.enqueue(async () => {
        // Chained like a batch write (both append to the logs table), never alongside one.
        const previous = this.inFlight;
        this.inFlight = (async () => {
          await previous;
          await this.persistSearchWatermarks(true);
        })();
      });
    }
    // Max wait bounds how long a row waits for the writer; while two batches already wait for it,
    // handing over a part-filled one would only add a commit, so the batch keeps filling instead.
    const writerBusy = this.writesInProgress >= 2;
    if (this.flushQueued || this.stopping || writerBusy || !this.pending.isDue(Date.now(), this.options.limits)) {
      this.maybeReportProgress();
      return;
    }
    this.flushQueued = true;
    void this.enqueue(() => this.startFlush()).finally(() => {
      this.flushQueued = false;
    });
  }

  private maybeReportProgress(): void {
    // An idle streamer is alive too: its heartbeat age must not grow while there is nothing to read.
    if (this.pending.size === 0) markStreamerHeartbeat(this.name);
    if (!this.options.onProgress || Date.now() - this.lastProgressMs < 2000) return;
    this.lastProgressMs = Date.now();
    this.options.onProgress(this.progress());
  }

  /**
   * Hands the pending rows to the writer. Runs inside the queue. Writes run one after another
   * (each batch's commits follow the previous batch's), but intake goes on while they run: the
   * next batch is queued behind the one being written, and only a third full batch waits here
   * (back-pressure: at most two batches written or queued while the next one fills).
   */
  private async startFlush(): Promise<void> {
    await this.queuedBehind;
    if (this.fatalError) return;
    const rows = this.pending.take();
    if (rows.length === 0) return;
    const previous = this.inFlight;
    this.queuedBehind = previous;
    this.writesInProgress += 1;
    this.inFlight = (async () => {
      await previous;
      if (!this.fatalError) await this.writeBatch(rows);
    })()
      .catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))))
      .finally(() => (this.writesInProgress -= 1));
  }

  /** Writes what is pending and waits until it is committed. */
  private async flushNow(): Promise<void> {
    await this.startFlush();
    await this.inFlight;
  }

  /** Writes one batch: DLQ + quarantine, anomalies, metrics, then the logs commit (the checkpoint). */
  private async writeBatch(rows: Accepted[]): Promise<void> {
    const { topic } = this.options;
    const batchLastOffsets = lastOffsets(rows);
    const good = rows.filter((row): row is AcceptedGood => row.kind === 'good').map((row) => row.record);
    const bad = rows.filter((row): row is AcceptedBad => row.kind === 'bad').map((row) => row.message);

    const phaseStartedMs = Date.now();
    const newBad = bad.filter((message) => message.offset > (this.committed.quarantine.get(message.partition) ?? -1n));
    const newAnomalies = good.filter(
      (record) => record.isAnomaly && record.offset > (this.committed.anomalies.get(record.partition) ?? -1n),
    );
    const aggregates = this.aggregate(
      good.filter((record) => record.offset > (this.committed.metrics.get(record.partition) ?? -1n)),
      batchLastOffsets,
    );
    const previousLogVersions = new Map(
      [...batchLastOffsets.keys()].map((partition) => [partition, this.committed.logs.get(partition) ?? -1n]),
    );
    // Dead letters go to their topic before the quarantine commit: at least once, never lost.
    if (newBad.length) await this.producer!.send(this.options.dlqTopic, newBad.map(dlqMessage));
    // The side tables are independent of each other; only the logs commit (the checkpoint) must come
    // last. All of them go to the writer in one hand-off; whatever does not commit there (a rival
    // writer after a rebalance, an I/O error) is retried table by table below.
    const table = <Row extends { partition: number }>(
      name: TableName,
      tableRows: Row[],
      build: (rows: Row[]) => Parameters<TableSink['append']>[0],
    ) => ({
      plan: () => this.planCommit(name, tableRows, build, batchLastOffsets),
      commitAlone: () => this.commitTable(name, tableRows, build, batchLastOffsets),
    });
    const sideTables = [
      ...(newBad.length ? [table('quarantine', newBad, quarantineTable)] : []),
      ...(newAnomalies.length ? [table('anomalies', newAnomalies, anomaliesTable)] : []),
      ...(aggregates.length ? [table('metrics', aggregates, metricsTable)] : []),
    ];
    const logs = table('logs', good, logsTable);
    const sidePlans = sideTables.map((side) => side.plan()).filter((plan) => plan !== undefined);
    const logsPlan = logs.plan();
    const together = await this.options.sinks.commitInOrder(
      sidePlans.map((plan) => plan.append),
      logsPlan?.append,
    );
    const sideMs = sidePlans.map((plan, index) => this.settleCommit(plan, together.first[index]!) ?? 0);
    const logsMs = logsPlan && together.last ? this.settleCommit(logsPlan, together.last) : undefined;
    const phases = { sideTablesMs: Math.max(0, ...sideMs), logsMs: logsMs ?? 0 };
    let committedLogs = logsMs === undefined ? undefined : logsPlan!.rows;
    if (committedLogs === undefined) {
      const retryStartedMs = Date.now();
      await Promise.all(sideTables.map((side) => side.commitAlone()));
      committedLogs = await logs.commitAlone();
      phases.logsMs = Date.now() - retryStartedMs;
    }
    this.options.onBatchCommitted?.(committedLogs, Date.now());
    await Promise.all(this.pendingAlerts.splice(0));
    this.counters.batches += 1;
    if (committedLogs.length < good.length) this.counters.duplicateBatches += 1;
    this.counters.committedRows += committedLogs.length;
    this.counters.quarantined += newBad.length;
    this.counters.anomalies += newAnomalies.length;
    this.lastCommitTimeMs = Date.now();
    observeBatch({
      messages: rows.length,
      stageMs: { side_tables: phases.sideTablesMs, delta_logs: phases.logsMs, write_total: this.lastCommitTimeMs - phaseStartedMs },
      sinkRows: {
        delta_logs: committedLogs.length,
        delta_anomalies: newAnomalies.length,
        delta_metrics_1m: aggregates.length,
        dead_letter: newBad.length,
      },
      duplicateRows: good.length - committedLogs.length,
      deadLetterReasons: newBad.map((message) => message.rejection.code),
      committedKafkaTimestampsMs: committedLogs.map((record) => record.kafkaTimestampMs),
      committedAtMs: this.lastCommitTimeMs,
    });
    markStreamerHeartbeat(this.name);
    const nextOffsets = new Map<number, bigint>();
    for (const partition of batchLastOffsets.keys()) {
      const version = this.committed.logs.get(partition);
      if (version !== undefined && version >= 0n) nextOffsets.set(partition, version + 1n);
    }
    this.consumer?.commitOffsets(topic, nextOffsets).catch((error: unknown) => {
      this.logger.debug({ error: (error as Error).message }, 'group offset commit failed (lag display only)');
    });
    if (this.options.search) {
      const through = new Map<number, bigint>();
      for (const partition of batchLastOffsets.keys()) through.set(partition, this.committed.logs.get(partition) ?? -1n);
      this.searchBacklog.add(committedLogs, through, previousLogVersions);
      this.wakeSearch?.();
      await this.persistSearchWatermarks(false);
    }
    this.logger.debug({ rows: rows.length, ...phases }, 'batch committed');
    if (this.options.onProgress) {
      this.lastProgressMs = Date.now();
      this.options.onProgress(this.progress());
    }
    await this.options.models?.check();
  }

  /** Per-minute aggregates of each partition's rows, so every row can carry its partition's txn. */
  private aggregate(records: ScoredRecord[], batchLastOffsets: Map<number, bigint>): PartitionAggregate[] {
    const byPartition = new Map<number, ScoredRecord[]>();
    for (const record of records)
      (byPartition.get(record.partition) ?? byPartition.set(record.partition, []).get(record.partition)!).push(record);
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
   * What a table's commit for this batch holds: a txn per partition the table does not hold up to
   * the batch's end yet, and those partitions' rows. Undefined when there is nothing to commit.
   * A partition the table already holds up to (or past) the batch's end gets no txn: after a crash
   * between the side tables and the logs commit, a replayed batch may end before what the side
   * table holds, and one such txn would make the engine refuse the other partitions' rows.
   */
  private planCommit<Row extends { partition: number }>(
    table: TableName,
    rows: Row[],
    build: (rows: Row[]) => Parameters<TableSink['append']>[0],
    batchLastOffsets: ReadonlyMap<number, bigint>,
  ): CommitPlan<Row> | undefined {
    const versions = new Map(
      [...batchLastOffsets].filter(([partition, version]) => version > (this.committed[table].get(partition) ?? -1n)),
    );
    if (versions.size === 0) return undefined;
    const planned = rows.filter((row) => versions.has(row.partition));
    return { versions, rows: planned, append: { table, rows: build(planned), txns: this.txnsFor(table, versions) } };
  }

  /**
   * previousVersion: a rival streamer that committed any part of this range (after a rebalance
   * moved the partition mid-batch) makes the engine refuse the commit instead of doubling rows.
   */
  private txnsFor(table: TableName, versions: ReadonlyMap<number, bigint>): TxnMarker[] {
    return [...versions].map(([partition, version]) => ({
      appId: txnAppId(table, this.options.topic, partition),
      version,
      previousVersion: this.committed[table].get(partition) ?? -1n,
    }));
  }

  /** Records a planned commit's result; its duration when it committed, else undefined (commitTable retries it). */
  private settleCommit(plan: CommitPlan<{ partition: number }>, result: TableAppendResult): number | undefined {
    if (!('outcome' in result) || result.outcome.kind !== 'committed') return undefined;
    for (const [partition, version] of plan.versions) this.committed[plan.append.table].set(partition, version);
    observeDeltaCommit(plan.append.table, result.durationMs);
    return result.durationMs;
  }

  /**
   * One Delta commit of rows with a txn per partition of the batch, retried; returns the rows written.
   * 'duplicate' from the engine means another writer committed one of these partitions since we
   * read its version (it moved to another streamer mid-flight): that partition's rows are dropped
   * and re-synchronised from the table, the other partitions' rows are committed again.
   */
  private async commitTable<Row extends { partition: number }>(
    table: TableName,
    rows: Row[],
    build: (rows: Row[]) => Parameters<TableSink['append']>[0],
    batchLastOffsets: ReadonlyMap<number, bigint>,
  ): Promise<Row[]> {
    const { sinks } = this.options;
    const plan = this.planCommit(table, rows, build, batchLastOffsets);
    if (!plan) return [];
    const { versions } = plan;
    let remaining = plan.rows;
    let append = plan.append;
    for (let attempt = 1; ; attempt += 1) {
      const txns = this.txnsFor(table, versions);
      let outcome: AppendOutcome;
      const appendStartedMs = performance.now();
      try {
        outcome = await sinks[table].append(append.rows, txns);
        observeDeltaCommit(table, performance.now() - appendStartedMs);
      } catch (error) {
        observeDeltaConflict(table, 'failed');
        if (attempt >= APPEND_ATTEMPTS)
          throw new StreamerFailedError(`cannot append to Delta table ${table}: ${(error as Error).message}`, error);
        this.logger.warn({ table, attempt, error: (error as Error).message }, 'Delta append failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        continue;
      }
      if (outcome.kind === 'committed') {
        for (const [partition, version] of versions) this.committed[table].set(partition, version);
        return remaining;
      }
      const foreign = await this.partitionsWrittenElsewhere(table, [...versions.keys()]);
      observeDeltaConflict(table, foreign.size === 0 ? 'duplicate' : 'retried');
      if (foreign.size === 0 || attempt >= APPEND_ATTEMPTS) {
        this.logger.warn({ table, txns: txns.map((txn) => `${txn.appId}@${txn.version}`) }, 'batch already in the table; dropped');
        for (const [partition, version] of versions) {
          if (version > (this.committed[table].get(partition) ?? -1n)) this.committed[table].set(partition, version);
        }
        return [];
      }
      for (const [partition, version] of foreign) {
        this.logger.warn({ table, partition, version: version.toString() }, 'another writer committed this partition; re-synchronising');
        versions.delete(partition);
        this.committed[table].set(partition, version);
        if (table === 'logs') this.resync(partition, version);
      }
      remaining = remaining.filter((row) => versions.has(row.partition));
      if (versions.size === 0) return [];
      append = { ...append, rows: build(remaining) };
    }
  }

  /** Partitions whose txn in the table moved past what we last saw: someone else wrote them. */
  private async partitionsWrittenElsewhere(table: TableName, partitions: number[]): Promise<Map<number, bigint>> {
    const foreign = new Map<number, bigint>();
    for (const partition of partitions) {
      const version = (await this.options.sinks[table].txnVersion(txnAppId(table, this.options.topic, partition))) ?? -1n;
      if (version !== (this.committed[table].get(partition) ?? -1n)) foreign.set(partition, version);
    }
    return foreign;
  }

  /** Continue a partition right after the version another writer committed. */
  private resync(partition: number, version: bigint): void {
    if (!this.positions.owns(partition)) return;
    this.pending.dropPartitions((candidate) => candidate !== partition);
    this.positions.assign(partition, version);
    this.consumer?.seek(this.options.topic, partition, version + 1n);
  }

  /**
   * Feeds the search engine from the backlog, oldest first, separately from the Delta commits so a
   * slow or absent engine never holds up the lakehouse. Failures back off and retry the same work.
   */
  private async searchLoop(search: SearchSink): Promise<void> {
    let backoffMs = 250;
    while (!this.searchStopped) {
      const work = this.searchBacklog.peek();
      if (!work) {
        await new Promise<void>((resolve) => {
          this.wakeSearch = resolve;
          setTimeout(resolve, 200);
        });
        continue;
      }
      try {
        if (work.kind === 'records') {
          await indexConcurrently(search, work.records, (count) => (this.counters.searchIndexed += count));
          for (const [partition, version] of work.through) this.advanceSearchWatermark(partition, version);
        } else {
          // The range may grow while it is read (later batches merge into it): read what it was now.
          const throughOffset = work.throughOffset;
          for await (const chunk of this.options.sinks.logs.readRange(
            this.options.topic,
            work.partition,
            work.afterOffset,
            throughOffset,
          )) {
            await indexConcurrently(search, chunk, (count) => (this.counters.searchIndexed += count));
          }
          this.advanceSearchWatermark(work.partition, throughOffset);
          if (work.throughOffset > throughOffset) {
            work.afterOffset = throughOffset;
            continue;
          }
        }
        this.searchBacklog.shift();
        backoffMs = 250;
      } catch (error) {
        this.counters.searchFailures += 1;
        if (this.counters.searchFailures % 20 === 1) {
          this.logger.warn(
            { error: (error as Error).message, backlogRows: this.searchBacklog.size },
            'search indexing failed; Delta keeps flowing, search catches up when the engine is back',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private advanceSearchWatermark(partition: number, version: bigint): void {
    if (!this.positions.owns(partition)) return;
    if (version > (this.searchIndexedThrough.get(partition) ?? -1n)) this.searchIndexedThrough.set(partition, version);
  }

  /** Waits (bounded) for the search backlog to empty, e.g. before a clean stop. */
  private async drainSearch(timeoutMs: number): Promise<void> {
    if (!this.options.search) return;
    const deadlineMs = Date.now() + timeoutMs;
    while (!this.searchBacklog.isEmpty && Date.now() < deadlineMs) {
      this.wakeSearch?.();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Records in the logs table (a txn-only commit, appId "search:<prefix>:<topic>-<partition>") how far
   * each partition is indexed, so a restarted streamer re-indexes only what search may lack.
   */
  private async persistSearchWatermarks(force: boolean): Promise<void> {
    const search = this.options.search;
    if (!search || (!force && Date.now() - this.lastSearchPersistMs < SEARCH_WATERMARK_INTERVAL_MS)) return;
    this.lastSearchPersistMs = Date.now();
    const txns: TxnMarker[] = [];
    for (const [partition, version] of this.searchIndexedThrough) {
      if (version > (this.searchPersisted.get(partition) ?? -1n))
        txns.push({ appId: searchAppId(search.indexPrefix, this.options.topic, partition), version });
    }
    if (txns.length === 0) return;
    try {
      await this.options.sinks.logs.append(logsTable([]), txns);
      for (const [partition, version] of this.searchIndexedThrough) this.searchPersisted.set(partition, version);
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'could not record the search watermark; it is retried');
    }
  }

  private async shutdown(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.searchStopped = true;
    this.wakeSearch?.();
    await this.searchLoopDone;
    await Promise.all(this.pendingAlerts.splice(0));
    await this.consumer?.stop().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    forgetStreamerHeartbeat(this.name);
  }
}

/** Bulk requests of SEARCH_CHUNK_ROWS, SEARCH_CONCURRENCY at a time: the engine indexes one while parsing the next. */
async function indexConcurrently(search: SearchSink, records: readonly ScoredRecord[], onIndexed: (count: number) => void): Promise<void> {
  const chunks: ScoredRecord[][] = [];
  for (let start = 0; start < records.length; start += SEARCH_CHUNK_ROWS) chunks.push(records.slice(start, start + SEARCH_CHUNK_ROWS));
  for (let start = 0; start < chunks.length; start += SEARCH_CONCURRENCY) {
    await Promise.all(
      chunks.slice(start, start + SEARCH_CONCURRENCY).map(async (chunk) => {
        const startedMs = performance.now();
        try {
          await search.index(chunk);
        } catch (error) {
          observeSearchBulk(chunk.length, performance.now() - startedMs, true);
          throw error;
        }
        observeSearchBulk(chunk.length, performance.now() - startedMs, false);
        onIndexed(chunk.length);
      }),
    );
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
