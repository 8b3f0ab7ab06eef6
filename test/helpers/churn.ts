// Consumer-group churn against real services: several `logstream stream` processes share one
// group, one topic and one lakehouse while logs are produced; in rounds one streamer is frozen
// past the session timeout (SIGSTOP, SIGCONT), one is SIGKILLed and restarted, and one more joins
// and leaves. At the end delta-rs counts what landed. Used by test/integration/streamer-churn.test.ts
// and `npm run bench -- churn`.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafkaClient, type KafkaClient, type OutgoingMessage } from '../../clients/kafka/index.js';
import { createSearchClient } from '../../clients/search/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createTrafficGenerator, toJsonLine } from '../../generator/index.js';
import { TABLE_FOLDERS } from '../../streamers/lakehouse.js';
import { runDeltalake } from './deltalake.js';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { uniqueName, waitFor } from './stack.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ChurnSettings {
  logs: number;
  /** Seconds over which the logs are produced. */
  produceSeconds: number;
  partitions: number;
  streamers: number;
  rounds: number;
  /** How long a streamer stays frozen: past the session timeout, so the group rebalances around it. */
  freezeSeconds: number;
  sessionTimeoutMs: number;
  search: boolean;
  /** One message in this many is not a log line (quarantine takes it). */
  badEvery: number;
  /** A model file the streamers score with, so anomalies are written and checked; default none (learning). */
  modelFile?: string;
  onProgress?(line: string): void;
}

export const DEFAULT_CHURN: ChurnSettings = {
  logs: 300_000,
  produceSeconds: 90,
  partitions: 6,
  streamers: 3,
  rounds: 4,
  freezeSeconds: 14,
  sessionTimeoutMs: 10_000,
  search: true,
  badEvery: 200,
};

/** What delta-rs found in the lakehouse, against the topic's offsets. */
export interface ChurnCount {
  offsets: number;
  logsRows: number;
  quarantineRows: number;
  anomaliesRows: number;
  /** Rows beyond the first of the same (partition, offset), over logs and quarantine. */
  duplicates: number;
  /** (partition, offset) of the topic in neither logs nor quarantine. */
  gaps: number;
  /** In both logs and quarantine. */
  overlap: number;
  /** anomalies rows without a flagged logs row, plus flagged logs rows missing from anomalies, plus repeats. */
  anomaliesMismatch: number;
  searchDocuments: number | null;
}

export interface ChurnReport extends ChurnCount {
  seconds: number;
  events: string[];
}

interface StreamProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Runs the scenario on fresh topic, group, lakehouse and index names, cleans up, and reports. */
export async function runChurn(config: PipelineConfig, settings: ChurnSettings = DEFAULT_CHURN): Promise<ChurnReport> {
  const startedMs = Date.now();
  const name = uniqueName('churn');
  const deltaRoot = await mkdtemp(join(tmpdir(), 'churn-delta-'));
  const kafka = createKafkaClient({ ...config.kafka, client_id: name });
  const search = settings.search ? createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: name } }) : undefined;
  const events: string[] = [];
  const note = (event: string) => {
    events.push(`${((Date.now() - startedMs) / 1000).toFixed(1)}s ${event}`);
    settings.onProgress?.(events.at(-1)!);
  };
  const running = new Set<StreamProcess>();
  const env = {
    LOGSTREAM_KAFKA_SERVERS: config.kafka.servers,
    LOGSTREAM_KAFKA_TOPIC: name,
    LOGSTREAM_KAFKA_PARTITIONS: String(settings.partitions),
    LOGSTREAM_KAFKA_CONSUMER_GROUP: `${name}-group`,
    LOGSTREAM_KAFKA_DLQ_TOPIC: `${name}-dlq`,
    LOGSTREAM_KAFKA_ANOMALIES_TOPIC: `${name}-anomalies`,
    LOGSTREAM_DELTA_ROOT: deltaRoot,
    LOGSTREAM_ELASTICSEARCH_ENABLED: String(settings.search),
    LOGSTREAM_ELASTICSEARCH_INDEX_PREFIX: name,
    LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '500',
    LOGSTREAM_LOG_LEVEL: 'warn',
  };
  const start = (label: string): StreamProcess => {
    const child = spawn(process.execPath, logstreamArgs('stream', '--model', settings.modelFile ?? 'none'), {
      cwd: repositoryRoot,
      // Info level: "partitions assigned" tells when a streamer has joined the group.
      env: { ...process.env, ...env, LOGSTREAM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-20_000);
    });
    const streamProcess: StreamProcess = {
      child,
      exited: once(child, 'exit').then(([code]) => code as number | null),
      stderr: () => stderr,
    };
    running.add(streamProcess);
    void streamProcess.exited.then(() => running.delete(streamProcess));
    note(`${label} started (pid ${child.pid})`);
    return streamProcess;
  };
  const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  try {
    await kafka.ensureTopic(name, settings.partitions);
    const producing = produceSteadily(kafka, name, settings);
    const streamers = Array.from({ length: settings.streamers }, (_, index) => start(`streamer ${index + 1}`));
    await waitFor('the first commit', async () => (await committedRows(deltaRoot)) > 0, { timeoutMs: 90_000, intervalMs: 250 });
    for (let round = 1; round <= settings.rounds; round += 1) {
      const frozen = streamers[round % streamers.length]!;
      frozen.child.kill('SIGSTOP');
      note(`round ${round}: froze pid ${frozen.child.pid}`);
      await sleep(settings.freezeSeconds);
      frozen.child.kill('SIGCONT');
      note(`round ${round}: resumed pid ${frozen.child.pid}`);
      const killedAt = (round + 1) % streamers.length;
      streamers[killedAt]!.child.kill('SIGKILL');
      await streamers[killedAt]!.exited;
      note(`round ${round}: killed pid ${streamers[killedAt]!.child.pid}`);
      streamers[killedAt] = start(`round ${round}: restarted`);
      const visitor = start(`round ${round}: visitor`);
      await waitFor('the visitor to join the group', () => visitor.stderr().includes('partitions assigned'), { timeoutMs: 60_000 });
      await sleep(4);
      visitor.child.kill('SIGINT');
      const code = await visitor.exited;
      note(`round ${round}: visitor left (exit ${code})`);
      if (code !== 0) throw new Error(`a streamer leaving on Ctrl-C exited with ${code}: ${visitor.stderr()}`);
    }
    const produced = await producing;
    note(`produced ${produced} messages`);
    const offsets = await kafka.topicOffsets(name);
    const total = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
    await waitFor('every message in logs or quarantine', async () => (await committedRows(deltaRoot)) >= total, {
      timeoutMs: 300_000,
      intervalMs: 1000,
    });
    if (search) {
      const goodRows = await tableRows(deltaRoot, 'logs');
      await waitFor(
        'the search index to hold the logs rows',
        async () => {
          await search.refresh(search.logsIndexPattern);
          return (await search.countDocuments(search.logsIndexPattern)) >= goodRows;
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
    }
    for (const streamer of running) streamer.child.kill('SIGINT');
    for (const streamer of [...running]) {
      const code = await streamer.exited;
      if (code !== 0) throw new Error(`a streamer stopping on Ctrl-C exited with ${code}: ${streamer.stderr()}`);
    }
    note('all streamers stopped');
    let searchDocuments: number | null = null;
    if (search) {
      await search.refresh(search.logsIndexPattern);
      searchDocuments = await search.countDocuments(search.logsIndexPattern);
    }
    const count = countWithDeltaRs(
      deltaRoot,
      Object.fromEntries(offsets.map((partition) => [partition.partition, Number(partition.high)])),
    );
    return { ...count, searchDocuments, seconds: (Date.now() - startedMs) / 1000, events };
  } finally {
    for (const streamer of running) {
      streamer.child.kill('SIGCONT');
      streamer.child.kill('SIGKILL');
    }
    await search?.deleteIndices(search.logsIndexPattern).catch(() => undefined);
    await search?.close();
    for (const topic of [name, `${name}-dlq`, `${name}-anomalies`]) await kafka.deleteTopic(topic).catch(() => undefined);
    await kafka.close();
    await rm(deltaRoot, { recursive: true, force: true });
  }
}

/** Generated logs keyed by client IP (bad ones now and then), paced evenly over produceSeconds. */
export async function produceSteadily(kafka: KafkaClient, topic: string, settings: ChurnSettings): Promise<number> {
  const generator = createTrafficGenerator({ seed: 7, startTimeMs: Date.now() - 60_000, ratePerSecond: 1000, anomalyRate: 0.02 });
  const producer = await kafka.createProducer();
  const chunk = 2000;
  const startedMs = Date.now();
  let sent = 0;
  try {
    while (sent < settings.logs) {
      const messages: OutgoingMessage[] = [];
      for (let index = 0; index < chunk && sent + messages.length < settings.logs; index += 1) {
        const log = generator.next();
        messages.push(
          (sent + index) % settings.badEvery === 0
            ? { value: `not a log line ${sent + index}` }
            : { key: log.clientIp, value: toJsonLine(log) },
        );
      }
      await producer.send(topic, messages);
      sent += messages.length;
      const dueMs = startedMs + (sent / settings.logs) * settings.produceSeconds * 1000;
      if (dueMs > Date.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - Date.now()));
    }
  } finally {
    await producer.close();
  }
  return sent;
}

async function tableRows(deltaRoot: string, table: 'logs' | 'quarantine'): Promise<number> {
  const { DeltaTable } = await import('../../clients/delta/index.js');
  try {
    return (await (await DeltaTable.open(join(deltaRoot, TABLE_FOLDERS[table]))).snapshot()).numRows ?? 0;
  } catch {
    return 0;
  }
}

async function committedRows(deltaRoot: string): Promise<number> {
  return (await tableRows(deltaRoot, 'logs')) + (await tableRows(deltaRoot, 'quarantine'));
}

/** Counts with delta-rs (the reference implementation), not with our own reader; storageOptions for an s3:// root. */
export function countWithDeltaRs(
  deltaRoot: string,
  highWatermarks: Record<number, number>,
  storageOptions?: Record<string, string>,
): Omit<ChurnCount, 'searchDocuments'> {
  return runDeltalake(
    `
from collections import Counter
def keys(folder, columns):
    table = DeltaTable(args['root'].rstrip('/') + '/' + folder, storage_options=args.get('storageOptions')).to_pyarrow_table(columns=columns)
    return table.to_pydict()
logs = keys('${TABLE_FOLDERS.logs}', ['kafka_partition', 'kafka_offset', 'is_anomaly'])
quarantine = keys('${TABLE_FOLDERS.quarantine}', ['kafka_partition', 'kafka_offset'])
anomalies = keys('${TABLE_FOLDERS.anomalies}', ['kafka_partition', 'kafka_offset'])
log_keys = list(zip(logs['kafka_partition'], logs['kafka_offset']))
quarantine_keys = list(zip(quarantine['kafka_partition'], quarantine['kafka_offset']))
anomaly_keys = list(zip(anomalies['kafka_partition'], anomalies['kafka_offset']))
flagged = set(key for key, flag in zip(log_keys, logs['is_anomaly']) if flag)
counted = Counter(log_keys + quarantine_keys)
expected = set((int(p), o) for p, high in args['highs'].items() for o in range(high))
anomaly_counter = Counter(anomaly_keys)
out({
    'offsets': len(expected),
    'logsRows': len(log_keys),
    'quarantineRows': len(quarantine_keys),
    'anomaliesRows': len(anomaly_keys),
    'duplicates': sum(count - 1 for count in counted.values()),
    'gaps': len(expected - set(counted)),
    'overlap': len(set(log_keys) & set(quarantine_keys)),
    'anomaliesMismatch': len(set(anomaly_keys) ^ flagged) + sum(count - 1 for count in anomaly_counter.values()),
})
`,
    { root: deltaRoot, highs: highWatermarks, ...(storageOptions ? { storageOptions } : {}) },
  );
}
