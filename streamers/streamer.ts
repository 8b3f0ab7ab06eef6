// The exactly-once micro-batch streamer: the thin shell that connects the Kafka consumer group to
// intake (decode, score), the table committer (the exactly-once invariant), the search feeder and
// the alert outbox. It owns two queues: one for group events, intake and batch cuts, in order; and
// the write chain, where every lakehouse write happens one after another. See streamers/README.md.
import { pino, type Logger } from 'pino';
import type { BatchControl, GroupConsumer, KafkaClient, MessageProducer, PartitionBatch } from '../clients/kafka/index.js';
import { forgetStreamerHeartbeat, markStreamerHeartbeat } from '../clients/metrics/index.js';
import type { DecodeOptions } from '../logs/decode.js';
import { activeBackend } from '../ml/backend.js';
import { ClientWindow } from '../ml/clientWindow.js';
import type { ModelWatcher, Scorer } from '../ml/scorer.js';
import { ALERT_READ_BACK_MARGIN_MS, AlertHistoryReader } from './alertHistory.js';
import { AlertOutbox, deadLetterMessage } from './alerts.js';
import { type Accepted, type Batch, type BatchLimits, cutBatch, PendingBatch } from './batch.js';
import { type BatchOutcome, type RetryPolicy, TableCommitter } from './committer.js';
import { StreamerFailedError } from './errors.js';
import type { UnpackedChunk } from '../logs/packedEvents.js';
import type { DecodeThread } from './decodeThread.js';
import { decodeHere, takeDecoded } from './intake.js';
import { PartitionLedger, type TableVersions } from './ledger.js';
import { observeBatch, observeIntake, observeModel } from './metrics.js';
import { SearchFeeder } from './searchFeeder.js';
import {
  type AppendResult,
  alertsAppId,
  type Lakehouse,
  type ScoredRecord,
  type SearchSink,
  searchAppId,
  type TableName,
  type TxnMarker,
  txnAppId,
} from './sinks.js';

export interface StreamerOptions {
  kafka: KafkaClient;
  topic: string;
  groupId: string;
  dlqTopic: string;
  anomaliesTopic: string;
  limits: BatchLimits;
  /** How messages are decoded (size limit, field mappings, time window). */
  decode: Omit<DecodeOptions, 'nowMs'>;
  /**
   * Decodes on a thread of its own instead, with the same settings (createStreamer passes one):
   * each fetch is sent there as it arrives, so it is decoded while earlier ones are scored.
   */
  decodeThread?: DecodeThread;
  lakehouse: Lakehouse;
  /** Search engine sink; indexing failures never stop the stream (see SearchFeeder). */
  search?: SearchSink;
  /** Picks up new model versions between batches; without it (or before a model loads) rows are stored unscored: the pipeline is learning. */
  models?: ModelWatcher;
  /** Called after each batch with the logs rows this streamer committed (latency measurement, metrics). */
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
  /** How Delta failures are retried before the streamer gives up. */
  retry?: RetryPolicy;
}

export interface StreamerCounters {
  messages: number;
  committedRows: number;
  quarantined: number;
  anomalies: number;
  batches: number;
  /** Batches of which a partition was dropped: another writer had moved it on. */
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

/** Everything read from the tables when a partition is (re)synchronised. */
interface PartitionVersions {
  tables: TableVersions;
  search: bigint;
  alerts: bigint;
  /** When the partition's logs txn was last committed (epoch ms), when recorded. */
  logsUpdatedAtMs?: number;
}

/** The model version a streamer reports while it has no model (the pipeline is learning). */
export const UNSCORED = 'none';

const TABLES: readonly TableName[] = ['logs', 'quarantine', 'anomalies', 'metrics'];
const TICK_MS = 20;
/** Messages decoded and scored between two turns of the event loop. */
const INTAKE_CHUNK_MESSAGES = 1000;
/** Fetched messages that may wait for intake while kafkajs fetches more. */
const READ_AHEAD_MESSAGES = 20_000;
const WATERMARK_INTERVAL_MS = 5000;
const MODEL_CHECK_IDLE_MS = 2000;
const DRAIN_ON_STOP_MS = 10_000;

export class Streamer {
  private readonly options: StreamerOptions;
  private readonly logger: Logger;
  private readonly ledger = new PartitionLedger();
  private readonly pending = new PendingBatch<Accepted>();
  private readonly committer: TableCommitter;
  private readonly alerts: AlertOutbox;
  private readonly alertHistory: AlertHistoryReader;
  private readonly searchFeeder?: SearchFeeder;
  private readonly clientWindow = new ClientWindow();
  private observedScorer?: Scorer | null;
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
  /** Group events, intake and batch cuts, one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  /** Every lakehouse write, one after another: batches, follower catch-ups, watermarks. */
  private writes: Promise<void> = Promise.resolve();
  /** The write the last batch is queued behind (see startFlush). */
  private queuedBehind?: Promise<void>;
  /** Batches handed to the write chain and not yet written. */
  private batchesInFlight = 0;
  private flushQueued = false;
  /** Fetched messages waiting for (or in) intake. */
  private queuedMessages = 0;
  private timer?: NodeJS.Timeout;
  private startedMs = Date.now();
  private lastCommitTimeMs: number | null = null;
  private lastProgressMs = 0;
  private lastWatermarksMs = 0;
  private lastModelCheckMs = 0;
  private modelCheck?: Promise<void>;
  /** Per partition and watermark appId: the version last recorded in the logs table. */
  private readonly persistedWatermarks = new Map<string, bigint>();
  private stopping = false;
  private finished?: { resolve: () => void; reject: (error: Error) => void; promise: Promise<void> };
  private fatalError?: Error;

  constructor(options: StreamerOptions) {
    this.options = options;
    this.logger = options.logger ?? pino({ name: 'streamer' }, pino.destination(2));
    this.alerts = new AlertOutbox({
      topic: options.anomaliesTopic,
      sourceTopic: options.topic,
      producer: () => this.producer,
      logger: this.logger,
    });
    this.alertHistory = new AlertHistoryReader(options.kafka, options.anomaliesTopic, options.topic);
    if (options.search) {
      this.searchFeeder = new SearchFeeder({
        search: options.search,
        lakehouse: options.lakehouse,
        topic: options.topic,
        logger: this.logger,
        backlogRows: options.searchBacklogRows,
      });
    }
    this.committer = new TableCommitter({
      topic: options.topic,
      lakehouse: options.lakehouse,
      ledger: this.ledger,
      resync: (partition, reason) => this.resync(partition, reason),
      sendDeadLetters: async (messages) => {
        if (!this.producer) throw new Error('no Kafka producer');
        await this.producer.send(
          this.options.dlqTopic,
          messages.map((message) => deadLetterMessage(message)),
        );
      },
      logger: this.logger,
      retry: options.retry,
      stopping: () => this.stopping,
    });
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
        onBatch: (batch, control) => this.onBatch(batch, control),
        onCrash: (error, restarting) => {
          this.logger.warn({ error: error.message, restarting }, 'kafka consumer crashed');
          if (!restarting) this.fail(new StreamerFailedError(`Kafka consumer stopped: ${error.message}`, error));
        },
      });
      this.timer = setInterval(() => this.onTick(), TICK_MS);
      this.searchFeeder?.start();
      if (this.options.signal?.aborted) void this.stop();
      await promise;
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      if (this.timer) clearInterval(this.timer);
      await this.shutdown();
    }
    return this.progress();
  }

  /** Finishes the batch in hand (commits it), sends what is queued, leaves the group and makes run() return. */
  async stop(): Promise<StreamerPosition> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.timer) clearInterval(this.timer);
      this.consumer?.pause(this.options.topic, this.ledger.owned());
      this.enqueue(() => this.flushNow());
      this.enqueue(async () => {
        await this.searchFeeder?.drain(DRAIN_ON_STOP_MS);
        await this.alerts.close(DRAIN_ON_STOP_MS);
      });
      this.enqueue(() => this.write(() => this.persistWatermarks()));
      this.enqueue(async () => this.finished?.resolve());
    }
    await this.finished?.promise.catch(() => undefined);
    return this.progress();
  }

  progress(): StreamerProgress {
    const committedOffsets: Record<number, string> = {};
    for (const partition of this.ledger.owned()) committedOffsets[partition] = (this.ledger.committed(partition, 'logs') ?? -1n).toString();
    const elapsedSeconds = Math.max((Date.now() - this.startedMs) / 1000, 0.001);
    return {
      committedOffsets,
      counters: {
        ...this.counters,
        searchIndexed: this.searchFeeder?.counters.indexed ?? 0,
        searchFailures: this.searchFeeder?.counters.failures ?? 0,
        searchBacklog: this.searchFeeder?.backlogRows ?? 0,
      },
      rowsPerSecond: this.counters.committedRows / elapsedSeconds,
      lastCommitTimeMs: this.lastCommitTimeMs,
      modelVersion: this.scorer()?.modelVersion ?? UNSCORED,
    };
  }

  private scorer(): Scorer | undefined {
    return this.options.models?.current();
  }

  private get name(): string {
    return this.options.name ?? 'streamer';
  }

  /** Exports the model in use as an info metric when it changes. */
  private observeScorer(): void {
    const scorer = this.scorer() ?? null;
    if (scorer === this.observedScorer) return;
    this.observedScorer = scorer;
    observeModel(scorer?.modelVersion ?? UNSCORED, scorer?.featureSpecId ?? UNSCORED, activeBackend() ?? 'none');
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

  /** Runs a lakehouse write after every write handed over before it. */
  private write(task: () => Promise<void>): Promise<void> {
    const next = this.writes.then(async () => {
      if (this.fatalError) return;
      await task();
    });
    this.writes = next.catch((error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))));
    return this.writes;
  }

  private fail(error: Error): void {
    if (this.fatalError) return;
    this.fatalError = error;
    this.logger.error({ error: error.message }, 'streamer stopped on an error');
    this.finished?.reject(error);
  }

  /**
   * Group assignment (start, rebalance, consumer restart). Once every batch handed to the writer
   * has settled, a partition this streamer keeps stays as it is when the tables are still where
   * it left them; any other is (re)synchronised from the tables.
   */
  private onAssigned(partitions: number[]): void {
    const { topic } = this.options;
    // Stop fetching until we know where each partition really resumes.
    if (partitions.length) this.consumer?.pause(topic, partitions);
    void this.enqueue(async () => {
      await this.writes;
      const assigned = new Set(partitions);
      for (const partition of this.ledger.owned()) if (!assigned.has(partition)) this.revoke(partition);
      const kept: number[] = [];
      try {
        for (const partition of partitions) {
          const versions = await this.readVersions(partition);
          if (this.unchanged(partition, versions.tables)) {
            kept.push(partition);
            // kafkajs fetches from the group offset after a rejoin; intake continues where it was.
            this.consumer?.seek(topic, partition, this.ledger.seek(partition)!);
            // Another streamer may have had it meanwhile, and alerted rows it never committed.
            this.takeOverAlerts(partition, versions);
          } else {
            await this.applyResync(partition, versions, 'assigned');
          }
        }
      } finally {
        this.alertHistory.flush();
      }
      if (partitions.length) {
        this.logger.info(
          {
            partitions: Object.fromEntries(partitions.map((partition) => [partition, this.ledger.nextOffset(partition)!.toString()])),
            kept,
          },
          'partitions assigned; resuming after the Delta txn versions',
        );
      }
      if (partitions.length && !this.stopping) this.consumer?.resume(topic, partitions);
    });
  }

  /**
   * Alerts other owners sent for rows after what this streamer has reconciled, read back from the
   * alerts topic from a little before the partition's last logs commit (see alertHistory.ts).
   */
  private takeOverAlerts(partition: number, versions: PartitionVersions): void {
    const after = this.alerts.reconciled(partition);
    if (after === undefined) return;
    // A partition never committed was at most a batch old when its last owner stopped; one whose
    // txn has no time (written by another engine) is read back from the start of the topic's retention.
    const lastCommitMs = versions.logsUpdatedAtMs ?? (versions.tables.logs < 0n ? Date.now() : 0);
    this.alerts.takeOver(partition, this.alertHistory.request(partition, after, Math.max(0, lastCommitMs - ALERT_READ_BACK_MARGIN_MS)));
  }

  private unchanged(partition: number, versions: TableVersions): boolean {
    return this.ledger.owns(partition) && TABLES.every((table) => this.ledger.committed(partition, table) === versions[table]);
  }

  private revoke(partition: number): void {
    const dropped = this.pending.dropPartitions((candidate) => candidate !== partition);
    this.ledger.revoke(partition);
    this.searchFeeder?.revoke(partition);
    this.alerts.revoke(partition);
    if (dropped) this.logger.info({ partition, dropped }, 'dropped pending rows of a partition that moved to another streamer');
  }

  private async readVersions(partition: number): Promise<PartitionVersions> {
    const { lakehouse, topic } = this.options;
    const logsAppId = txnAppId('logs', topic, partition);
    const search = this.searchFeeder ? searchAppId(this.searchFeeder.indexPrefix, topic, partition) : undefined;
    const alerts = alertsAppId(topic, partition);
    const [logs, quarantine, anomalies, metrics] = await Promise.all([
      lakehouse.txnVersions('logs', [logsAppId, alerts, ...(search ? [search] : [])]),
      ...(['quarantine', 'anomalies', 'metrics'] as const).map((table) =>
        lakehouse.txnVersions(table, [txnAppId(table, topic, partition)]),
      ),
    ]);
    const logsUpdatedAtMs = await lakehouse.txnUpdatedAt('logs', logsAppId);
    const version = (versions: Map<string, bigint>, appId: string) => versions.get(appId) ?? -1n;
    const logsVersion = version(logs!, logsAppId);
    const alertsVersion = version(logs!, alerts);
    return {
      tables: {
        logs: logsVersion,
        quarantine: version(quarantine!, txnAppId('quarantine', topic, partition)),
        anomalies: version(anomalies!, txnAppId('anomalies', topic, partition)),
        metrics: version(metrics!, txnAppId('metrics', topic, partition)),
      },
      search: search ? version(logs!, search) : -1n,
      // A partition never alerted through the watermark starts from now: an upgrade must not replay history as alerts.
      alerts: alertsVersion < 0n ? logsVersion : alertsVersion,
      logsUpdatedAtMs,
    };
  }

  /** The committer's way back: the partition's tables moved on (or the outcome was unknown). */
  private async resync(partition: number, reason: string): Promise<void> {
    if (!this.ledger.owns(partition)) return;
    await this.applyResync(partition, await this.readVersions(partition), reason);
  }

  /**
   * The one place a partition's position is set from the tables: its rows taken so far are void,
   * intake continues right after the logs version, search and alerts catch up with what the logs
   * table holds, and the follower tables are brought up to it.
   */
  private async applyResync(partition: number, versions: PartitionVersions, reason: string): Promise<void> {
    const wasOwned = this.ledger.owns(partition);
    const dropped = this.pending.dropPartitions((candidate) => candidate !== partition);
    const next = this.ledger.resync(partition, versions.tables);
    this.consumer?.seek(this.options.topic, partition, next);
    if (wasOwned) {
      this.searchFeeder?.caughtUp(partition, versions.tables.logs);
      this.logger.info(
        { partition, reason, resumeAt: next.toString(), droppedRows: dropped },
        'partition re-synchronised from the Delta tables',
      );
    } else {
      this.searchFeeder?.assign(partition, versions.search, versions.tables.logs);
      this.alerts.assign(partition, versions.alerts);
    }
    if (reason === 'assigned') this.takeOverAlerts(partition, versions);
    // Alerts must agree with the rows the logs table holds: retract what they do not confirm, send what was never sent.
    const reconcileFrom = this.alerts.reconciled(partition)!;
    if (reconcileFrom < versions.tables.logs) {
      const rows: ScoredRecord[] = [];
      for await (const chunk of this.options.lakehouse.readRange(
        'logs',
        this.options.topic,
        partition,
        reconcileFrom,
        versions.tables.logs,
      ))
        for (const row of chunk) rows.push(row);
      this.alerts.committed(partition, versions.tables.logs, rows);
    } else this.alerts.committed(partition, versions.tables.logs, []);
    if (versions.tables.anomalies < versions.tables.logs || versions.tables.metrics < versions.tables.logs) {
      void this.write(() => this.committer.catchUpFollowers(partition));
    }
  }

  private async onBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    const tag = this.ledger.tagFetch(batch.partition, control.isStale());
    this.queuedMessages += batch.messages.length;
    const decoded = this.decodeAhead(batch);
    const intake = this.enqueue(async () => {
      try {
        await this.intakeFetch(batch, tag, decoded);
      } finally {
        this.queuedMessages -= batch.messages.length;
      }
    });
    // Read-ahead: kafkajs fetches the next batch while this one is decoded, as long as little is
    // queued. Past that, awaiting the queue is the back-pressure: kafkajs fetches no more while
    // the writer is behind (intake waits for it in startFlush).
    if (this.queuedMessages > Math.max(READ_AHEAD_MESSAGES, this.options.limits.maxRows)) await intake;
    await control.heartbeat().catch(() => undefined);
    if (this.fatalError) throw this.fatalError;
  }

  /**
   * The decoded chunks of a fetch, one per INTAKE_CHUNK_MESSAGES of its messages. With a decode
   * thread they are all sent there now, so intake scores one chunk while the thread decodes the
   * next (a fetch the ledger then drops was decoded for nothing); without one, each chunk is decoded
   * here when intake asks for it.
   */
  private decodeAhead(batch: PartitionBatch): (block: number) => Promise<UnpackedChunk> {
    const slice = (block: number) => batch.messages.slice(block * INTAKE_CHUNK_MESSAGES, (block + 1) * INTAKE_CHUNK_MESSAGES);
    const thread = this.options.decodeThread;
    if (!thread) {
      // Kept: intake may take a block in two parts when a batch fills in the middle of it.
      const decodedHere: Promise<UnpackedChunk>[] = [];
      return (block) => (decodedHere[block] ??= Promise.resolve(decodeHere(slice(block), this.options.decode, Date.now())));
    }
    const nowMs = Date.now();
    const chunks: Promise<UnpackedChunk>[] = [];
    for (let block = 0; block * INTAKE_CHUNK_MESSAGES < batch.messages.length; block += 1) {
      const chunk = thread.decode(slice(block), nowMs);
      // Awaited by intake, unless the fetch is dropped first.
      chunk.catch(() => undefined);
      chunks.push(chunk);
    }
    return (block) => chunks[block]!;
  }

  /**
   * Decodes and scores the messages of one fetch that the ledger admits, in chunks (a batch never
   * grows past max rows, and the event loop turns between chunks so the writer's replies, alerts
   * and heartbeats are not held up). Rows of a partition re-synchronised meanwhile are void.
   */
  private async intakeFetch(
    batch: PartitionBatch,
    tag: ReturnType<PartitionLedger['tagFetch']>,
    decoded: (block: number) => Promise<UnpackedChunk>,
  ): Promise<void> {
    const { partition } = batch;
    if (this.stopping) return;
    const admission = this.ledger.admit(tag, batch.fetchedOffset);
    if (admission.kind === 'drop') return;
    if (admission.kind === 'reseek') {
      this.logger.debug(
        { partition, fetchedOffset: batch.fetchedOffset.toString(), seek: admission.offset.toString() },
        'fetch read ahead of intake; seeking back',
      );
      this.consumer?.seek(this.options.topic, partition, admission.offset);
      return;
    }
    if (admission.gap) {
      this.logger.warn(
        { partition, from: admission.gap.from.toString(), to: admission.gap.to.toString() },
        'offsets missing from the topic (deleted by retention, or transaction markers): continuing after them',
      );
    }
    const generation = this.ledger.generation(partition);
    const admitted: number[] = [];
    batch.messages.forEach((message, index) => {
      if (message.offset >= admission.from) admitted.push(index);
    });
    for (let start = 0; start < admitted.length; ) {
      if (this.stopping || this.ledger.generation(partition) !== generation) return;
      const room = Math.max(1, this.options.limits.maxRows - this.pending.size);
      let end = Math.min(admitted.length, start + Math.min(INTAKE_CHUNK_MESSAGES, room));
      // A chunk ends where the decode thread's chunk of the fetch ends.
      const block = Math.floor(admitted[start]! / INTAKE_CHUNK_MESSAGES);
      for (let position = start + 1; position < end; position += 1) {
        if (Math.floor(admitted[position]! / INTAKE_CHUNK_MESSAGES) !== block) {
          end = position;
          break;
        }
      }
      const positions = admitted.slice(start, end);
      const chunk = positions.map((index) => batch.messages[index]!);
      start = end;
      const nowMs = Date.now();
      const startedMs = performance.now();
      const taken = await takeDecoded(
        chunk,
        await decoded(block),
        positions.map((index) => index - block * INTAKE_CHUNK_MESSAGES),
        { topic: batch.topic, partition, scorer: this.scorer(), clientWindow: this.clientWindow, nowMs },
      );
      // Scoring awaited: the partition may have been re-synchronised meanwhile.
      if (this.ledger.generation(partition) !== generation) return;
      const chunkBytes = chunk.reduce((sum, message) => sum + (message.value?.length ?? 0), 0);
      for (const row of taken.rows) this.pending.add(row, nowMs, chunkBytes / taken.rows.length);
      this.ledger.covered(partition, chunk.at(-1)!.offset);
      this.counters.messages += chunk.length;
      observeIntake(batch.topic, chunk.length, taken.good, performance.now() - startedMs);
      this.observeScorer();
      if (taken.anomalies.length) this.alerts.detected(taken.anomalies);
      if (this.pending.isFull(this.options.limits)) await this.startFlush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.ledger.generation(partition) === generation) this.ledger.covered(partition, batch.lastOffset);
  }

  /** An idle streamer asks for a new model too: a learning pipeline's first model must not wait for traffic. */
  private checkModelWhenIdle(): void {
    if (!this.options.models || this.modelCheck || Date.now() - this.lastModelCheckMs < MODEL_CHECK_IDLE_MS) return;
    this.lastModelCheckMs = Date.now();
    this.modelCheck = this.options.models
      .check()
      .then(() => this.observeScorer())
      .catch(() => undefined)
      .finally(() => {
        this.modelCheck = undefined;
      });
  }

  private onTick(): void {
    this.checkModelWhenIdle();
    if (!this.stopping && Date.now() - this.lastWatermarksMs >= WATERMARK_INTERVAL_MS) {
      this.lastWatermarksMs = Date.now();
      void this.enqueue(async () => void this.write(() => this.persistWatermarks()));
    }
    // Max wait bounds how long a row waits for the writer; while two batches already wait for it,
    // handing over a part-filled one would only add a commit, so the batch keeps filling instead.
    const writerBusy = this.batchesInFlight >= 2;
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
   * Cuts the pending rows into a batch and hands it to the write chain. Runs inside the queue.
   * Batches are written one after another, but intake goes on meanwhile: the next batch is queued
   * behind the one being written, and only a third full batch waits here (back-pressure: at most
   * two batches written or queued while the next one fills).
   */
  private async startFlush(): Promise<void> {
    await this.queuedBehind;
    if (this.fatalError) return;
    const rows = this.pending.take();
    if (rows.length === 0) return;
    const batch = cutBatch(rows, this.ledger);
    this.queuedBehind = this.writes;
    this.batchesInFlight += 1;
    void this.write(() => this.writeBatch(batch, rows.length)).finally(() => {
      this.batchesInFlight -= 1;
    });
  }

  /** Writes what is pending and waits until it is committed. */
  private async flushNow(): Promise<void> {
    await this.startFlush();
    await this.writes;
  }

  /** Commits one batch, then feeds search and alerts with what the logs table now holds. */
  private async writeBatch(batch: Batch, messages: number): Promise<void> {
    const { topic } = this.options;
    const startedMs = Date.now();
    const outcome = await this.committer.commit(batch);
    const committedAtMs = Date.now();
    const committed = [...outcome.ours.values()].flatMap((entry) => entry.records);
    this.lastCommitTimeMs = committedAtMs;
    this.counters.batches += 1;
    if (outcome.dropped.size) this.counters.duplicateBatches += 1;
    this.counters.committedRows += committed.length;
    this.counters.quarantined += outcome.quarantined;
    this.counters.anomalies += outcome.anomalies;
    observeBatch({
      messages,
      stageMs: {
        side_tables: Math.max(outcome.quarantineMs, outcome.followersMs),
        delta_logs: outcome.logsMs,
        write_total: committedAtMs - startedMs,
      },
      sinkRows: {
        delta_logs: committed.length,
        delta_anomalies: outcome.anomalies,
        delta_metrics_1m: outcome.metricsRows,
        dead_letter: outcome.quarantined,
      },
      duplicateRows: batch.good.length - committed.length,
      deadLetterReasons: batch.bad.filter((message) => outcome.ours.has(message.partition)).map((message) => message.rejection.code),
      committedKafkaTimestampsMs: committed.map((record) => record.kafkaTimestampMs),
      committedAtMs,
    });
    markStreamerHeartbeat(this.name);
    this.options.onBatchCommitted?.(committed, committedAtMs);
    for (const [partition, { range, records }] of outcome.ours) this.alerts.committed(partition, range.last, records);
    for (const [partition, range] of outcome.readBack) {
      const rows: ScoredRecord[] = [];
      for await (const chunk of this.options.lakehouse.readRange('logs', topic, partition, range.base, range.last)) rows.push(...chunk);
      this.alerts.committed(partition, range.last, rows);
    }
    this.searchFeeder?.committed(outcome.ours, outcome.readBack);
    const nextOffsets = new Map<number, bigint>();
    for (const partition of [...outcome.ours.keys(), ...outcome.readBack.keys()]) {
      const version = this.ledger.committed(partition, 'logs');
      if (version !== undefined && version >= 0n) nextOffsets.set(partition, version + 1n);
    }
    this.consumer?.commitOffsets(topic, nextOffsets).catch((error: unknown) => {
      this.logger.debug({ error: (error as Error).message }, 'group offset commit failed (lag display only)');
    });
    if (this.options.onProgress) {
      this.lastProgressMs = Date.now();
      this.options.onProgress(this.progress());
    }
    this.lastModelCheckMs = Date.now();
    await this.options.models?.check();
  }

  /**
   * Records in the logs table (a txn-only commit) how far each partition is indexed in the search
   * engine and alerted, so a restarted streamer re-indexes and re-alerts only what may be missing.
   * These txns only ever move forward; a lower one than the table holds is simply refused.
   */
  private async persistWatermarks(): Promise<void> {
    const { topic, lakehouse } = this.options;
    const txns: TxnMarker[] = [];
    for (const partition of this.ledger.owned()) {
      const marks: Array<[string, bigint | undefined]> = [[alertsAppId(topic, partition), this.alerts.watermark(partition)]];
      if (this.searchFeeder)
        marks.push([searchAppId(this.searchFeeder.indexPrefix, topic, partition), this.searchFeeder.watermark(partition)]);
      for (const [appId, version] of marks) {
        if (version !== undefined && version >= 0n && version > (this.persistedWatermarks.get(appId) ?? -1n)) txns.push({ appId, version });
      }
    }
    if (txns.length === 0) return;
    const [[result]] = (await lakehouse.commitSteps([[{ table: 'logs', rows: [], txns }]])) as [[AppendResult]];
    if (result.kind === 'committed') for (const txn of txns) this.persistedWatermarks.set(txn.appId, txn.version);
    // Another streamer recorded a later watermark: ours waits until it passes that one.
    else if (result.kind === 'refused')
      for (const refusal of result.refused) this.persistedWatermarks.set(refusal.appId, refusal.committedVersion);
    else if (result.kind === 'failed')
      this.logger.warn({ error: result.error.message }, 'could not record the search and alert watermarks; retried');
  }

  private async shutdown(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.writes.catch(() => undefined);
    await this.searchFeeder?.stop();
    await this.alerts.close(this.fatalError ? 0 : DRAIN_ON_STOP_MS);
    await this.consumer?.stop().catch(() => undefined);
    await this.producer?.close().catch(() => undefined);
    forgetStreamerHeartbeat(this.name);
  }
}

export type { BatchOutcome };
