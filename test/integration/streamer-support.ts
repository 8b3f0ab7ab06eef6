// Shared by the streamer integration tests: a streamer over real Kafka and real Delta tables in a
// fresh folder, unique topic names, and readers of what landed in the tables.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { createKafkaClient, type KafkaClient, type OutgoingMessage } from '../../clients/kafka/index.js';
import { DeltaTable, tablePath, type S3Settings } from '../../clients/delta/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createTrafficGenerator, generateTrainingData, toJsonLine } from '../../generator/index.js';
import { serializeModel } from '../../ml/model.js';
import { trainModel } from '../../ml/train.js';
import { createStreamer, type StreamerOverrides } from '../../streamers/createStreamer.js';
import { TABLE_FOLDERS } from '../../streamers/lakehouse.js';
import type { Streamer } from '../../streamers/streamer.js';
import { uniqueName } from '../helpers/stack.js';
import { pino } from 'pino';

export interface StreamerFixture {
  topic: string;
  groupId: string;
  dlqTopic: string;
  anomaliesTopic: string;
  deltaRoot: string;
  kafka: KafkaClient;
}

export async function streamerFixture(config: PipelineConfig, name: string, partitions = 3): Promise<StreamerFixture> {
  const topic = uniqueName(`${name}`);
  const kafka = createKafkaClient({ ...config.kafka, client_id: uniqueName('test') });
  await kafka.ensureTopic(topic, partitions);
  return {
    topic,
    groupId: `${topic}-group`,
    dlqTopic: `${topic}-dlq`,
    anomaliesTopic: `${topic}-anomalies`,
    deltaRoot: await mkdtemp(join(tmpdir(), `${name}-delta-`)),
    kafka,
  };
}

export async function startStreamer(
  fixture: StreamerFixture,
  config: PipelineConfig,
  extra: StreamerOverrides = {},
): Promise<{ streamer: Streamer; done: Promise<unknown> }> {
  const { streamer, close } = await createStreamer(config, {
    kafka: fixture.kafka,
    deltaRoot: fixture.deltaRoot,
    topic: fixture.topic,
    groupId: fixture.groupId,
    dlqTopic: fixture.dlqTopic,
    anomaliesTopic: fixture.anomaliesTopic,
    limits: { maxRows: config.streaming.batch_max_rows, maxWaitMs: 300 },
    sessionTimeoutMs: 6000,
    search: false,
    logger: pino({ name: 'streamer', level: process.env.LOGSTREAM_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
    ...extra,
  });
  const done = streamer.run().finally(() => close());
  done.catch(() => undefined);
  return { streamer, done };
}

/** Generated JSON-line logs keyed by client IP. */
export function generatedMessages(count: number, seed: number): OutgoingMessage[] {
  const generator = createTrafficGenerator({ seed, startTimeMs: Date.now() - 60_000, ratePerSecond: 1000, anomalyRate: 0.02 });
  return Array.from({ length: count }, () => {
    const log = generator.next();
    return { key: log.clientIp, value: toJsonLine(log) };
  });
}

export async function produce(kafka: KafkaClient, topic: string, messages: OutgoingMessage[], chunkSize = 5000): Promise<void> {
  const producer = await kafka.createProducer();
  try {
    for (let start = 0; start < messages.length; start += chunkSize) await producer.send(topic, messages.slice(start, start + chunkSize));
  } finally {
    await producer.close();
  }
}

/** (partition, offset) of every row of a table, as "p:offset" strings. */
export async function tableKeys(deltaRoot: string, table: keyof typeof TABLE_FOLDERS): Promise<string[]> {
  const rows = await tableRows(deltaRoot, table, ['kafka_partition', 'kafka_offset']);
  return rows.map((row) => `${row.kafka_partition}:${row.kafka_offset}`);
}

export async function tableRows(
  deltaRoot: string,
  table: keyof typeof TABLE_FOLDERS,
  columns?: string[],
): Promise<Record<string, unknown>[]> {
  const delta = await DeltaTable.open(join(deltaRoot, TABLE_FOLDERS[table]));
  const scanned = await (await delta.snapshot()).scan({ columns });
  return scanned.toArray().map((row) => (row as { toJSON(): Record<string, unknown> }).toJSON());
}

export async function tableRowCount(
  deltaRoot: string,
  table: keyof typeof TABLE_FOLDERS,
  options: { s3?: S3Settings } = {},
): Promise<number> {
  const delta = await DeltaTable.open(tablePath(deltaRoot, TABLE_FOLDERS[table]), options);
  const snapshot = await delta.snapshot();
  // Row counts from the add actions' stats: cheap enough to poll.
  return snapshot
    .files()
    .reduce((sum, file) => sum + (file.stats ? Number((JSON.parse(file.stats) as { numRecords?: number }).numRecords ?? 0) : 0), 0);
}

export async function topicMessageCount(kafka: KafkaClient, topic: string): Promise<number> {
  const offsets = await kafka.topicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high - partition.low), 0);
}

/** A K-means model trained on generated traffic, written to a file of its own for `--model`. */
export async function trainedModelFile(thresholdPercentile = 99): Promise<string> {
  const { model } = await trainModel(generateTrainingData(3_000, 5), {
    kMin: 2,
    kMax: 3,
    seed: 5,
    thresholdPercentile,
    source: 'test',
    origin: 'generated',
  });
  const file = join(await mkdtemp(join(tmpdir(), 'streamer-model-')), 'model.json');
  await writeFile(file, serializeModel(model));
  return file;
}

export interface StreamProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `logstream stream --no-search --model MODEL` on the fixture's topics and lakehouse, as a process of its own. */
export function streamProcess(
  fixture: StreamerFixture,
  config: PipelineConfig,
  options: { model: string; batchMaxWaitMs?: number; logLevel?: string },
): StreamProcess {
  const child = spawn(
    process.execPath,
    logstreamArgs('stream', '--topic', fixture.topic, '--group', fixture.groupId, '--no-search', '--model', options.model),
    {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        LOGSTREAM_KAFKA_SERVERS: config.kafka.servers,
        LOGSTREAM_DELTA_ROOT: fixture.deltaRoot,
        LOGSTREAM_KAFKA_DLQ_TOPIC: fixture.dlqTopic,
        LOGSTREAM_KAFKA_ANOMALIES_TOPIC: fixture.anomaliesTopic,
        LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: String(options.batchMaxWaitMs ?? 300),
        LOGSTREAM_LOG_LEVEL: options.logLevel ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  return { child, exited: once(child, 'exit').then(([code]) => code as number | null), stderr: () => stderr };
}
