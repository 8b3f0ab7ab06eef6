// Streamer benchmark: sustained throughput Kafka -> decode -> score -> Delta on one worker (search
// sink off and on, search docs/s reported separately), and latency at a steady offered load from
// produce time to the Delta commit and to the alert on the anomalies topic. Rows are scored by a
// K-means model trained first on generated traffic, as in the pipeline. Prints figures; never fails.
//   npm run bench -- streamer [--logs 300000] [--rate 10000] [--seconds 30] [--skip-search]
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createKafkaClient, type KafkaClient, type OutgoingMessage } from '../clients/kafka/index.js';
import { createSearchClient, toIndexedDocument } from '../clients/search/index.js';
import { loadConfig } from '../config/load.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, toJsonLine } from '../generator/index.js';
import type { LogEvent } from '../logs/record.js';
import { createScorer } from '../ml/kmeansScorer.js';
import { staticModelWatcher } from '../training/modelWatcher.js';
import type { ModelWatcher } from '../ml/scorer.js';
import { createStreamer } from '../streamers/createStreamer.js';
import { createSearchSink } from '../streamers/searchSink.js';
import type { ScoredRecord, SearchSink } from '../streamers/sinks.js';
import { BENCH_SITE_SEED, trainBenchModel } from './lib/benchModel.js';
import { generateLoad } from './lib/generate.js';

const { values: args } = parseArgs({
  options: {
    logs: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    'skip-search': { type: 'boolean', default: false },
    /** Batch size of the throughput runs besides the configured one (bigger batches amortise commits). */
    'large-batch-rows': { type: 'string', default: '20000' },
  },
});
const totalLogs = Number(args.logs);
const offeredRate = Number(args.rate);
const latencySeconds = Number(args.seconds);
const config = loadConfig().config;
const runId = `${Date.now().toString(36)}`;
const quiet = pino({ level: 'error' }, pino.destination(2));
let models: ModelWatcher | undefined;

async function benchModels(): Promise<ModelWatcher> {
  const { model, rows, seconds } = await trainBenchModel(config, offeredRate, 'bench:streamer');
  console.log(`model: k=${model.training.k}, trained on ${rows} rows of a one-minute slice in ${seconds.toFixed(1)} s`);
  return staticModelWatcher(createScorer(model, 'bench'));
}

/** Generated traffic as `logstream generate --rate <offered rate>` makes it (the latency run's load). */
function generatedLogs(count: number, seed: number, startTimeMs: number): LogEvent[] {
  const generator = createTrafficGenerator({ seed, startTimeMs, ratePerSecond: offeredRate, anomalyRate: DEFAULT_ANOMALY_RATE });
  return Array.from({ length: count }, () => generator.next());
}

function messages(count: number, seed: number): OutgoingMessage[] {
  return generatedLogs(count, seed, Date.now() - 300_000).map((log) => ({ key: log.clientIp, value: toJsonLine(log) }));
}

async function preload(kafka: KafkaClient, topic: string, count: number): Promise<void> {
  await kafka.ensureTopic(topic, config.kafka.partitions);
  const producer = await kafka.createProducer();
  const all = messages(count, BENCH_SITE_SEED);
  for (let start = 0; start < all.length; start += 5000) await producer.send(topic, all.slice(start, start + 5000));
  await producer.close();
}

function percentile(values: number[], quantile: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1))]!;
}

interface ThroughputFigures {
  logs: number;
  seconds: number;
  logsPerSecond: number;
  searchDocs: number;
  searchSeconds: number | null;
  searchDocsPerSecond: number | null;
}

/** Drains a preloaded topic; the clock runs from the first commit's batch start to the last commit. */
async function throughput(
  kafka: KafkaClient,
  withSearch: boolean,
  batchMaxRows = config.streaming.batch_max_rows,
): Promise<ThroughputFigures & { batchMaxRows: number }> {
  const topic = `bench-streamer-${runId}-${withSearch ? 'search' : 'plain'}-${batchMaxRows}`;
  await preload(kafka, topic, totalLogs);
  const deltaRoot = await mkdtemp(join(tmpdir(), 'bench-streamer-'));
  let search: SearchSink | undefined;
  const searchClient = withSearch
    ? createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: `bench-${runId}` } })
    : undefined;
  if (searchClient) {
    await searchClient.ensureIndexTemplate();
    await warmUpSearchEngine();
    search = createSearchSink(searchClient);
  }
  let committed = 0;
  let firstFetchMs: number | undefined;
  let lastCommitMs = 0;
  let searchDoneMs: number | undefined;
  const { streamer, close } = await createStreamer(config, {
    kafka,
    deltaRoot,
    topic,
    groupId: `${topic}-group`,
    dlqTopic: `${topic}-dlq`,
    anomaliesTopic: `${topic}-anomalies`,
    limits: { maxRows: batchMaxRows, maxWaitMs: config.streaming.batch_max_wait_ms },
    search: search ?? false,
    models,
    logger: quiet,
    onBatchCommitted: (records, committedAtMs) => {
      firstFetchMs ??= Math.min(...records.map((record) => record.ingestTimeMs));
      committed += records.length;
      lastCommitMs = committedAtMs;
    },
  });
  const done = streamer.run();
  const deadlineMs = Date.now() + 600_000;
  while (committed < totalLogs && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 50));
  if (search) {
    while (streamer.progress().counters.searchIndexed < totalLogs && Date.now() < deadlineMs)
      await new Promise((resolve) => setTimeout(resolve, 50));
    searchDoneMs = Date.now();
  }
  await streamer.stop();
  await done;
  const seconds = (lastCommitMs - (firstFetchMs ?? lastCommitMs)) / 1000;
  const searchSeconds = searchDoneMs && firstFetchMs ? (searchDoneMs - firstFetchMs) / 1000 : null;
  await close();
  await searchClient?.deleteIndices(searchClient.logsIndexPattern).catch(() => undefined);
  await searchClient?.close();
  await kafka.deleteTopic(topic).catch(() => undefined);
  await rm(deltaRoot, { recursive: true, force: true });
  return {
    batchMaxRows,
    logs: committed,
    seconds,
    logsPerSecond: committed / seconds,
    searchDocs: streamer.progress().counters.searchIndexed,
    searchSeconds,
    searchDocsPerSecond: searchSeconds ? streamer.progress().counters.searchIndexed / searchSeconds : null,
  };
}

/**
 * Indexes 50,000 documents into a scratch index family first: a search engine just started is
 * several times slower until its JIT has warmed up, which is not what a running pipeline sees.
 */
async function warmUpSearchEngine(): Promise<void> {
  const warmUp = createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: `bench-${runId}-warmup` } });
  try {
    await warmUp.ensureIndexTemplate();
    const logs = generatedLogs(50_000, 3, Date.now() - 300_000);
    for (let start = 0; start < logs.length; start += 2500) {
      const documents = logs.slice(start, start + 2500).map((log, index) =>
        toIndexedDocument(warmUp.indexPrefix, {
          ...log,
          topic: 'warm-up',
          partition: 0,
          offset: BigInt(start + index),
          kafkaTimestampMs: log.timestampMs,
          ingestTimeMs: log.timestampMs,
        }),
      );
      await warmUp.bulkIndex(documents);
    }
    await warmUp.deleteIndices(warmUp.logsIndexPattern);
  } finally {
    await warmUp.close();
  }
}

interface LatencyFigures {
  offeredRate: number;
  achievedRate: number;
  rows: number;
  commitP50Ms: number;
  commitP99Ms: number;
  alerts: number;
  alertP50Ms: number;
  alertP99Ms: number;
}

/** Produces at a steady rate; latency = Delta commit (or alert receipt) minus the message's produce timestamp. */
async function latency(kafka: KafkaClient): Promise<LatencyFigures> {
  const topic = `bench-latency-${runId}`;
  const anomaliesTopic = `${topic}-anomalies`;
  await kafka.ensureTopic(topic, config.kafka.partitions);
  await kafka.ensureTopic(anomaliesTopic, 1);
  const deltaRoot = await mkdtemp(join(tmpdir(), 'bench-latency-'));
  const commitLatencies: number[] = [];
  const { streamer, close } = await createStreamer(config, {
    kafka,
    deltaRoot,
    topic,
    groupId: `${topic}-group`,
    dlqTopic: `${topic}-dlq`,
    anomaliesTopic,
    search: false,
    models,
    logger: quiet,
    onBatchCommitted: (records: readonly ScoredRecord[], committedAtMs: number) => {
      for (const record of records) commitLatencies.push(committedAtMs - record.kafkaTimestampMs);
    },
  });
  const done = streamer.run();
  const alertLatencies: number[] = [];
  const alertConsumer = kafka.createConsumer({ groupId: `${anomaliesTopic}-reader`, maxWaitMs: 10 });
  await alertConsumer.start(anomaliesTopic, {
    onAssigned: () => undefined,
    onBatch: async (batch) => {
      const nowMs = Date.now();
      for (const message of batch.messages) {
        const alert = JSON.parse(message.value!.toString()) as { record?: { kafka: { timestamp_ms: number } } };
        if (alert.record) alertLatencies.push(nowMs - alert.record.kafka.timestamp_ms);
      }
    },
  });
  // Let both consumers join their groups before the clock starts.
  while (Object.keys(streamer.progress().committedOffsets).length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 2000));

  // The load comes from `logstream generate` in its own process (bench/lib/generate.ts).
  const total = offeredRate * latencySeconds;
  const startedMs = Date.now();
  await generateLoad({ topic, rate: offeredRate, count: total, env: { LOGSTREAM_KAFKA_SERVERS: config.kafka.servers } });
  const sent = total;
  const achievedRate = sent / ((Date.now() - startedMs) / 1000);
  const deadlineMs = Date.now() + 60_000;
  while (commitLatencies.length < sent && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await alertConsumer.stop();
  await streamer.stop();
  await done;
  await kafka.deleteTopic(topic).catch(() => undefined);
  await close();
  await kafka.deleteTopic(anomaliesTopic).catch(() => undefined);
  await rm(deltaRoot, { recursive: true, force: true });
  return {
    offeredRate,
    achievedRate,
    rows: commitLatencies.length,
    commitP50Ms: percentile(commitLatencies, 0.5),
    commitP99Ms: percentile(commitLatencies, 0.99),
    alerts: alertLatencies.length,
    alertP50Ms: percentile(alertLatencies, 0.5),
    alertP99Ms: percentile(alertLatencies, 0.99),
  };
}

const kafka = createKafkaClient({ ...config.kafka, client_id: `bench-${runId}` });
const round = (value: number | null) => (value === null || Number.isNaN(value) ? null : Math.round(value));
try {
  models = await benchModels();
  const plain = await throughput(kafka, false);
  console.log(
    `throughput, search off : ${round(plain.logsPerSecond)} logs/s (${plain.logs} logs in ${plain.seconds.toFixed(1)} s, batches of ${plain.batchMaxRows})`,
  );
  const large = await throughput(kafka, false, Number(args['large-batch-rows']));
  console.log(
    `throughput, search off : ${round(large.logsPerSecond)} logs/s (${large.logs} logs in ${large.seconds.toFixed(1)} s, batches of ${large.batchMaxRows})`,
  );
  const withSearch = args['skip-search'] ? undefined : await throughput(kafka, true);
  if (withSearch) {
    console.log(
      `throughput, search on  : ${round(withSearch.logsPerSecond)} logs/s into Delta; search ${round(withSearch.searchDocsPerSecond)} docs/s (${withSearch.searchDocs} docs in ${withSearch.searchSeconds?.toFixed(1)} s)`,
    );
  }
  const steady = await latency(kafka);
  console.log(
    `latency at ${steady.offeredRate}/s offered (${round(steady.achievedRate)}/s achieved): Delta commit p50 ${round(steady.commitP50Ms)} ms, p99 ${round(steady.commitP99Ms)} ms over ${steady.rows} rows; alert p50 ${round(steady.alertP50Ms)} ms, p99 ${round(steady.alertP99Ms)} ms over ${steady.alerts} alerts`,
  );
  console.log(
    JSON.stringify({
      benchmark: 'streamer',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      settings: {
        logs: totalLogs,
        offeredRate,
        latencySeconds,
        batchMaxRows: config.streaming.batch_max_rows,
        batchMaxWaitMs: config.streaming.batch_max_wait_ms,
        partitions: config.kafka.partitions,
        searchEngine: config.elasticsearch.kind,
        kafkaClient: 'kafkajs',
        scorer: 'k-means',
      },
      throughput: { searchOff: plain, searchOffLargeBatches: large, searchOn: withSearch ?? null },
      latency: steady,
    }),
  );
} catch (error) {
  console.log(`benchmark could not finish: ${(error as Error).message}`);
} finally {
  await kafka.close();
}
