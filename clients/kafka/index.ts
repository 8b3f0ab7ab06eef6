// The only module that talks to Kafka. kafkajs stays behind these small interfaces so another
// client library can be swapped in and measured against it without touching the streamers.
import { Kafka, logLevel as KafkaLogLevel, Partitioners, type Consumer, type KafkaMessage, type LogEntry, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { probeTls, TlsHandshakeError, tlsFailureOf } from '../tls.js';
import { KafkaAuthenticationError, KafkaUnavailableError } from './errors.js';
import { DecodedRecord, installRecordBatchDecoder } from './recordBatches.js';
import { kafkaSecurityOptions, kafkaTlsKeys, type KafkaSecuritySettings } from './security.js';
import { mayStillAppear, waitForTopic } from './topicCreation.js';

export { KafkaAuthenticationError, KafkaUnavailableError } from './errors.js';
export { TlsHandshakeError } from '../tls.js';

export interface KafkaSettings extends KafkaSecuritySettings {
  /** "host:port[,host:port…]" as in the kafka.servers configuration key. */
  servers: string;
  client_id: string;
}

/** How hard the client tries; the defaults ride out a broker restart, a probe wants an answer at once. */
export interface KafkaClientOptions {
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Retries of a failed request (default 15, about a minute). */
  retries?: number;
  /** kafkajs log output (default on, as warnings and errors through pino). */
  quiet?: boolean;
}

export interface ClusterDescription {
  brokers: number;
  /** Node id of the active controller, -1 when there is none. */
  controller: number;
}

export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  partition?: number;
  /** Message timestamp, epoch ms; the broker's append time when omitted. */
  timestampMs?: number;
  headers?: Record<string, string>;
}

export interface ConsumedMessage {
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** The message timestamp (produce or log-append time), epoch ms. */
  timestampMs: number;
  /** Record headers as the client decoded them (values are Buffers). */
  headers?: Readonly<Record<string, unknown>>;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** The offset the fetch asked for: the batch holds every message of the partition from there on. */
  fetchedOffset: bigint;
  /** The last offset the fetch covered, transaction markers included (the next fetch starts after it). */
  lastOffset: bigint;
  /** Offset the next produced message will get: lag = highWatermark - (last offset + 1). */
  highWatermark: bigint;
}

export interface BatchControl {
  /** Keeps group membership alive during long processing. */
  heartbeat(): Promise<void>;
  /** True when a seek or rebalance made this batch obsolete. */
  isStale(): boolean;
}

export interface ConsumerHandlers {
  /** Called once per fetched partition batch, one at a time; the next fetch for it waits until this resolves. */
  onBatch(batch: PartitionBatch, control: BatchControl): Promise<void>;
  /** Called synchronously every time the group hands this member its partitions (start and every rebalance). */
  onAssigned(assignment: Map<string, number[]>): void;
  /** The consumer crashed; `restarting` tells whether kafkajs rejoins by itself. */
  onCrash?(error: Error, restarting: boolean): void;
}

export interface GroupConsumerOptions {
  groupId: string;
  /** How long the broker waits before it gives a dead member's partitions to others. */
  sessionTimeoutMs?: number;
  /** Longest a fetch waits for data when the topic is idle. */
  maxWaitMs?: number;
  /** Where a partition with no committed group offset starts. */
  fromBeginning?: boolean;
}

export interface GroupConsumer {
  start(topic: string, handlers: ConsumerHandlers): Promise<void>;
  /** Next offset to read for a partition; only valid after start. */
  seek(topic: string, partition: number, offset: bigint): void;
  pause(topic: string, partitions: number[]): void;
  resume(topic: string, partitions: number[]): void;
  /** Commits "next offset to read" per partition to the group (lag visibility only). */
  commitOffsets(topic: string, nextOffsets: ReadonlyMap<number, bigint>): Promise<void>;
  stop(): Promise<void>;
}

export interface MessageProducer {
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still in the log. */
  low: bigint;
  /** Offset the next message will get. */
  high: bigint;
}

export interface KafkaClient {
  readonly servers: string;
  ensureTopic(topic: string, partitions: number): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Brokers and controller the cluster reports (a health probe). */
  describeCluster(): Promise<ClusterDescription>;
  createProducer(): Promise<MessageProducer>;
  createConsumer(options: GroupConsumerOptions): GroupConsumer;
  /**
   * Reads a topic's recent history: every message from the first one stamped at or after sinceMs,
   * in each partition, up to the partition's end as of the call, handed to `each` batch by batch.
   * Commits nothing (a throwaway group of its own). Resolves with the number of messages read.
   */
  readSince(topic: string, sinceMs: number, each: (messages: readonly ConsumedMessage[]) => void, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

let kafkaLogger: Logger | undefined;

function logCreator() {
  kafkaLogger ??= pino({ name: 'kafkajs', level: process.env.LOGSTREAM_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const logger = kafkaLogger;
  return ({ level, log }: LogEntry) => {
    const { message, ...extra } = log;
    if (level === KafkaLogLevel.ERROR) logger.error(extra, message);
    else if (level === KafkaLogLevel.WARN) logger.warn(extra, message);
    else if (level === KafkaLogLevel.INFO) logger.info(extra, message);
    else logger.debug(extra, message);
  };
}

// Before any fetch: kafkajs loads its fetch decoders on the first one.
installRecordBatchDecoder();

export function createKafkaClient(settings: KafkaSettings, options: KafkaClientOptions = {}): KafkaClient {
  const brokers = settings.servers.split(',').map((server) => server.trim());
  const security = kafkaSecurityOptions(settings);
  const kafka = new Kafka({
    clientId: settings.client_id,
    brokers,
    ...security,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    logLevel: options.quiet ? KafkaLogLevel.NOTHING : KafkaLogLevel.WARN,
    logCreator,
    // Keep retrying through a broker restart (about a minute) instead of failing the stream.
    retry: { initialRetryTime: 250, maxRetryTime: 5000, retries: options.retries ?? 15 },
  });
  const fail = (error: unknown) => kafkaError(settings, error);
  // kafkajs retries a failed TLS handshake like any connection error, for a minute; one handshake
  // of our own first tells a certificate problem at once.
  let tlsChecked: Promise<void> | undefined;
  const checkTls = () => {
    if (!security.ssl) return Promise.resolve();
    tlsChecked ??= (async () => {
      const broker = brokers[0]!;
      const separator = broker.lastIndexOf(':');
      const failure = await probeTls({
        host: broker.slice(0, separator),
        port: Number(broker.slice(separator + 1)),
        ca: security.ssl?.ca as Buffer | undefined,
        cert: security.ssl?.cert as Buffer | undefined,
        key: security.ssl?.key as Buffer | undefined,
        timeoutMs: options.connectionTimeoutMs ?? 3000,
      });
      if (failure) {
        tlsChecked = undefined;
        throw new TlsHandshakeError('Kafka', broker, failure, kafkaTlsKeys);
      }
    })();
    return tlsChecked;
  };
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const connectedAdmin = async () => {
    adminConnected ??= checkTls()
      .then(() => admin.connect())
      .catch((error: unknown) => {
        adminConnected = undefined;
        throw fail(error);
      });
    await adminConnected;
    return admin;
  };

  return {
    servers: settings.servers,
    async ensureTopic(topic, partitions) {
      const client = await connectedAdmin();
      const existing = await client.listTopics();
      if (existing.includes(topic)) return;
      try {
        await client.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
      } catch (error) {
        // Another process created it between listTopics and createTopics, or the broker created it
        // and has not published it yet (see mayStillAppear): then it shows up within seconds.
        const timeoutMs = mayStillAppear(error) ? TOPIC_METADATA_WAIT_MS : 0;
        if (!(await waitForTopic(() => client.listTopics(), topic, timeoutMs))) throw error;
      }
    },
    async deleteTopic(topic) {
      const client = await connectedAdmin();
      await client.deleteTopics({ topics: [topic] });
    },
    async topicOffsets(topic) {
      const client = await connectedAdmin();
      const offsets = await client.fetchTopicOffsets(topic);
      return offsets
        .map((entry) => ({ partition: entry.partition, low: BigInt(entry.low), high: BigInt(entry.high) }))
        .sort((left, right) => left.partition - right.partition);
    },
    async describeCluster() {
      const client = await connectedAdmin();
      const cluster = await client.describeCluster().catch((error: unknown) => {
        throw fail(error);
      });
      return { brokers: cluster.brokers.length, controller: cluster.controller ?? -1 };
    },
    async createProducer() {
      const producer = kafka.producer({
        // Hashes keys like the Java client, so one client IP always lands on one partition.
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      try {
        await checkTls();
        await producer.connect();
      } catch (error) {
        throw fail(error);
      }
      return wrapProducer(producer);
    },
    createConsumer(options) {
      return wrapConsumer(
        kafka.consumer({
          groupId: options.groupId,
          sessionTimeout: options.sessionTimeoutMs ?? 10_000,
          rebalanceTimeout: options.sessionTimeoutMs ?? 10_000,
          heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 10_000) / 5)),
          maxWaitTimeInMs: options.maxWaitMs ?? 100,
          maxBytesPerPartition: 4 * 1024 * 1024,
          allowAutoTopicCreation: false,
        }),
        options,
        async () => checkTls(),
        fail,
      );
    },
    async readSince(topic, sinceMs, each, timeoutMs = READ_SINCE_TIMEOUT_MS) {
      const client = await connectedAdmin();
      const [starts, ends] = await Promise.all([
        client.fetchTopicOffsetsByTimestamp(topic, sinceMs),
        client.fetchTopicOffsets(topic),
      ]).catch((error: unknown) => {
        throw fail(error);
      });
      const ranges = readRanges(starts, ends);
      if (ranges.size === 0) return 0;
      const consumer = kafka.consumer({
        groupId: `logstream-read-${randomUUID()}`,
        maxWaitTimeInMs: 100,
        maxBytesPerPartition: 4 * 1024 * 1024,
        allowAutoTopicCreation: false,
      });
      let read = 0;
      let timer: NodeJS.Timeout | undefined;
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: false });
        const done = new Promise<void>((resolve, reject) => {
          timer = setTimeout(
            () => reject(new KafkaUnavailableError(settings.servers, `reading ${topic} back took over ${timeoutMs} ms`)),
            timeoutMs,
          );
          consumer
            .run({
              autoCommit: false,
              eachBatchAutoResolve: true,
              eachBatch: async ({ batch }) => {
                const range = ranges.get(batch.partition);
                if (!range) return;
                const messages = batch.messages
                  .map((message) => consumedMessage(batch.partition, message))
                  .filter((message) => message.offset < range.end);
                read += messages.length;
                if (messages.length) each(messages);
                if (BigInt(batch.lastOffset()) + 1n >= range.end) {
                  ranges.delete(batch.partition);
                  if (ranges.size === 0) resolve();
                }
              },
            })
            .catch(reject);
        });
        for (const [partition, range] of ranges) consumer.seek({ topic, partition, offset: range.start.toString() });
        await done;
        return read;
      } catch (error) {
        throw fail(error);
      } finally {
        clearTimeout(timer);
        await consumer.disconnect().catch(() => undefined);
      }
    },
    async close() {
      if (adminConnected) await admin.disconnect();
      adminConnected = undefined;
    },
  };
}

/** How long readSince may take before it gives up. */
const READ_SINCE_TIMEOUT_MS = 120_000;

/** Per partition, the offsets readSince reads: from the first at the timestamp to the end, where that is not empty. */
export function readRanges(
  starts: readonly { partition: number; offset: string }[],
  ends: readonly { partition: number; high: string }[],
): Map<number, { start: bigint; end: bigint }> {
  const ranges = new Map<number, { start: bigint; end: bigint }>();
  for (const { partition, high } of ends) {
    const start = starts.find((entry) => entry.partition === partition)?.offset;
    const end = BigInt(high);
    if (start !== undefined && BigInt(start) < end) ranges.set(partition, { start: BigInt(start), end });
  }
  return ranges;
}

/** Messages per produce request stay under this many bytes: the broker refuses record batches over message.max.bytes (1 MiB by default). */
const MAX_REQUEST_BYTES = 512 * 1024;
/** How long a topic whose creation failed retriably may take to show in the broker's metadata. */
const TOPIC_METADATA_WAIT_MS = 30_000;

/** Splits messages into runs whose keys and values add up to at most maxBytes (a larger single message goes alone). */
export function chunkByBytes(messages: readonly OutgoingMessage[], maxBytes = MAX_REQUEST_BYTES): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let currentBytes = 0;
  for (const message of messages) {
    const bytes = byteLength(message.value) + byteLength(message.key ?? null) + 64;
    if (current.length && currentBytes + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(message);
    currentBytes += bytes;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function byteLength(value: string | Buffer | null): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function wrapProducer(producer: Producer): MessageProducer {
  return {
    async send(topic, messages) {
      for (const chunk of chunkByBytes(messages)) {
        await producer.send({
          topic,
          messages: chunk.map((message) => ({
            key: message.key ?? null,
            value: message.value,
            partition: message.partition,
            timestamp: message.timestampMs === undefined ? undefined : String(message.timestampMs),
            headers: message.headers,
          })),
        });
      }
    },
    async close() {
      await producer.disconnect();
    },
  };
}

function wrapConsumer(
  consumer: Consumer,
  options: GroupConsumerOptions,
  checkTls: () => Promise<void>,
  fail: (error: unknown) => Error,
): GroupConsumer {
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  return {
    async start(topic, handlers) {
      const run = () =>
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          partitionsConsumedConcurrently: 1,
          eachBatch: async ({ batch, heartbeat, isStale }) => {
            if (isStale()) return;
            // kafkajs keeps the offset each fetch asked for on the batch, untyped.
            const fetchedOffset = (batch as typeof batch & { fetchedOffset?: string }).fetchedOffset;
            await handlers.onBatch(
              {
                topic: batch.topic,
                partition: batch.partition,
                highWatermark: BigInt(batch.highWatermark),
                fetchedOffset: BigInt(fetchedOffset ?? batch.firstOffset() ?? batch.lastOffset()),
                lastOffset: BigInt(batch.lastOffset()),
                messages: batch.messages.map((message) => consumedMessage(batch.partition, message)),
              },
              { heartbeat, isStale },
            );
          },
        });
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const assignment = new Map<string, number[]>();
        for (const [assignedTopic, partitions] of Object.entries(event.payload.memberAssignment)) {
          assignment.set(
            assignedTopic,
            [...partitions].sort((left, right) => left - right),
          );
        }
        handlers.onAssigned(assignment);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload;
        const restartHere = !restart && !stopped && restartsAfterCrash(error);
        handlers.onCrash?.(error, restart || restartHere);
        if (!restartHere) return;
        restartTimer = setTimeout(() => {
          run().catch((failure: unknown) => handlers.onCrash?.(failure instanceof Error ? failure : new Error(String(failure)), false));
        }, CONSUMER_RESTART_DELAY_MS);
      });
      try {
        await checkTls();
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? true });
      } catch (error) {
        throw fail(error);
      }
      await run();
    },
    seek(topic, partition, offset) {
      consumer.seek({ topic, partition, offset: offset.toString() });
    },
    // Both are no-ops when the consumer is not running (before start, after a crash).
    pause(topic, partitions) {
      try {
        consumer.pause([{ topic, partitions }]);
      } catch {
        // not running: nothing is being fetched
      }
    },
    resume(topic, partitions) {
      try {
        consumer.resume([{ topic, partitions }]);
      } catch {
        // not running: the next start fetches anyway
      }
    },
    async commitOffsets(topic, nextOffsets) {
      if (nextOffsets.size === 0) return;
      await consumer.commitOffsets([...nextOffsets].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })));
    },
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await consumer.disconnect();
    },
  };
}

/** How long a consumer that kafkajs left stopped waits before it runs again (kafkajs's longest retry wait). */
const CONSUMER_RESTART_DELAY_MS = 5000;

/**
 * Whether a crash that kafkajs does not restart from is one to restart from anyway. kafkajs gives
 * up for good when no broker answers its group-coordinator lookup (a broker restarting or
 * unreachable for a few seconds), although the next lookup succeeds once one is back
 * (https://github.com/tulios/kafkajs/issues/1630).
 */
export function restartsAfterCrash(error: Error): boolean {
  // kafkajs's retrier wraps it in a KafkaJSNonRetriableError.
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current.name === 'KafkaJSGroupCoordinatorNotFound') return true;
  }
  return false;
}

/** A fetched record as the streamers see it; records of decodeRecordBatch keep their key uncut until it is read. */
function consumedMessage(partition: number, message: KafkaMessage): ConsumedMessage {
  if (message instanceof DecodedRecord) return new FetchedMessage(partition, message);
  return {
    partition,
    offset: BigInt(message.offset),
    key: message.key,
    value: message.value,
    timestampMs: Number(message.timestamp),
    headers: message.headers,
  };
}

class FetchedMessage implements ConsumedMessage {
  readonly offset: bigint;
  readonly value: Buffer | null;
  readonly timestampMs: number;
  readonly headers: Readonly<Record<string, unknown>>;

  constructor(
    readonly partition: number,
    private readonly record: DecodedRecord,
  ) {
    this.offset = record.offsetValue;
    this.value = record.value;
    this.timestampMs = record.timestampMs;
    this.headers = record.headers;
  }

  get key(): Buffer | null {
    return this.record.key;
  }
}

/** The typed error for a failed connect: refused credentials, a TLS problem, or no broker at all. */
function kafkaError(settings: KafkaSettings, error: unknown): Error {
  if (error instanceof TlsHandshakeError || error instanceof KafkaAuthenticationError || error instanceof KafkaUnavailableError)
    return error;
  if (error instanceof Error && error.name === 'ConfigError') return error;
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current.name === 'KafkaJSSASLAuthenticationError') {
      return new KafkaAuthenticationError({
        servers: settings.servers,
        broker: (current as { broker?: string }).broker,
        mechanism: settings.sasl_mechanism ?? 'PLAIN',
        username: (kafkaSecurityOptions(settings).sasl as { username?: string } | undefined)?.username ?? '',
        cause: current,
      });
    }
  }
  const tls = tlsFailureOf(error);
  const broker = (error as { broker?: string }).broker;
  if (tls) return new TlsHandshakeError('Kafka', broker ?? settings.servers, tls, kafkaTlsKeys);
  return new KafkaUnavailableError(settings.servers, error);
}
