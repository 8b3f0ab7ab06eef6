// Peer benchmark: our streamer against Spark Structured Streaming doing the old Python pipeline's
// job, one engine after the other on the same topic, this machine and its broker. Prints each
// engine's rows/s into Delta (first to last commit, and including start), the ratio, and the
// produce-to-visible commit latency at a fixed offered load. Installs Spark on first use
// (bench/peer/spark.ts); the Spark job is bench/peer/spark_job.py. Prints figures; never fails.
//   npm run bench -- peer [--logs 1000000] [--partitions 4] [--rate 10000] [--latency-seconds 30]
//                         [--skip-ours] [--skip-spark] [--skip-latency] [--max-offsets-per-trigger 200000]
//                         [--shuffle-partitions 2] [--scoring ml|sql] [--cpu-prof DIR] [--node-flags='--single-threaded-gc']
// Spark's first-to-last-commit rate needs at least two micro-batches: --logs above
// --max-offsets-per-trigger (with 1,000,000 and 200,000 it commits 5 full batches).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_FLAGS } from '../cli/nodeFlags.js';
import { createKafkaClient, type KafkaClient } from '../clients/kafka/index.js';
import { loadConfig } from '../config/load.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, toJsonLine } from '../generator/index.js';
import { serializeModel } from '../ml/model.js';
import { parsePidRecord } from '../infra/stack/pidRecord.js';
import { BENCH_SITE_SEED, trainBenchModel } from './lib/benchModel.js';
import { generateLoad } from './lib/generate.js';
import { CommitLog, commitLatency, type LatencySpread, type ThroughputFigures, throughputOf } from './peer/commits.js';
import { ensureSpark, PYSPARK_VERSION, DELTA_SPARK_VERSION, SPARK_JOB, type SparkInstall } from './peer/spark.js';

const { values: args } = parseArgs({
  options: {
    logs: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '4' },
    rate: { type: 'string', default: '10000' },
    'latency-seconds': { type: 'string', default: '30' },
    'warmup-logs': { type: 'string', default: '200000' },
    'skip-ours': { type: 'boolean', default: false },
    'skip-spark': { type: 'boolean', default: false },
    'skip-latency': { type: 'boolean', default: false },
    'max-offsets-per-trigger': { type: 'string', default: '200000' },
    'shuffle-partitions': { type: 'string', default: '2' },
    scoring: { type: 'string', default: 'ml' },
    'cpu-prof': { type: 'string' },
    'node-flags': { type: 'string', default: NODE_FLAGS.join(' ') },
    /** Streamer processes in the consumer group for the throughput run (the topic is keyed by client, so each client's window stays in one). */
    streamers: { type: 'string', default: '1' },
  },
});
const settings = {
  logs: Number(args.logs),
  partitions: Number(args.partitions),
  offeredRate: Number(args.rate),
  latencySeconds: Number(args['latency-seconds']),
  warmupLogs: Number(args['warmup-logs']),
  maxOffsetsPerTrigger: Number(args['max-offsets-per-trigger']),
  shufflePartitions: Number(args['shuffle-partitions']),
  scoring: args.scoring === 'sql' ? 'sql' : 'ml',
  sparkMaster: 'local[2]',
  pyspark: PYSPARK_VERSION,
  deltaSpark: DELTA_SPARK_VERSION,
  /** What `logstream` runs with (cli/nodeFlags.ts); `--node-flags ''` measures V8's defaults. */
  nodeFlags: args['node-flags'].split(' ').filter(Boolean),
  streamers: Number(args.streamers),
};
const { config } = loadConfig();
const repository = fileURLToPath(new URL('..', import.meta.url));
const runId = Date.now().toString(36);
const topics = {
  main: `bench-peer-${runId}`,
  warmup: `bench-peer-${runId}-warmup`,
  latencyOurs: `bench-peer-${runId}-latency-ours`,
  latencySpark: `bench-peer-${runId}-latency-spark`,
};
/** Topics this run made (the streamer adds its dead-letter and alert topics), deleted at the end. */
const created = new Set<string>();
const log = (line: string) => console.log(line);
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** Produces generated logs as `logstream generate --rate <offered rate>` shapes them, as fast as the broker takes them. */
async function produce(kafka: KafkaClient, topic: string, count: number, seed: number): Promise<void> {
  await kafka.ensureTopic(topic, settings.partitions);
  created.add(topic);
  const producer = await kafka.createProducer();
  const generator = createTrafficGenerator({
    seed,
    startTimeMs: Date.now() - 300_000,
    ratePerSecond: settings.offeredRate,
    anomalyRate: DEFAULT_ANOMALY_RATE,
  });
  const startedMs = performance.now();
  let reported = 0;
  for (let sent = 0; sent < count; ) {
    const chunk = Math.min(5000, count - sent);
    const messages = Array.from({ length: chunk }, () => {
      const next = generator.next();
      return { key: next.clientIp, value: toJsonLine(next) };
    });
    await producer.send(topic, messages);
    sent += chunk;
    if (sent - reported >= 250_000 || sent === count) {
      reported = sent;
      log(`  ${topic}: ${sent.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} logs`);
    }
  }
  await producer.close();
  log(`  produced ${count.toLocaleString('en-US')} logs in ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
}

/** CPU seconds (user + system) of a process and all its descendants, from /proc. */
function cpuSecondsOfTree(rootPid: number | undefined): number {
  if (!rootPid) return Number.NaN;
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const parent = Number(fields[1]);
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
    } catch {
      // the process exited while we looked
    }
  }
  let total = 0;
  const pending = [rootPid];
  while (pending.length) {
    const pid = pending.pop()!;
    total += cpu.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** CPU seconds of a process's busiest threads (name from /proc comm, the main thread marked). */
function threadCpuSeconds(pid: number | undefined, top = 6): { thread: string; cpuSeconds: number }[] {
  if (!pid) return [];
  const threads: { thread: string; cpuSeconds: number }[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.push({
        thread: `${name}${Number(tid) === pid ? ' (main)' : ''}`,
        cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,
      });
    }
  } catch {
    // the process exited
  }
  return threads.sort((left, right) => right.cpuSeconds - left.cpuSeconds).slice(0, top);
}

/** Busy core-seconds of the whole machine (every process), from /proc/stat. */
function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.reduce((sum, value) => sum + value, 0) - idle) / 100;
}

function brokerPid(): number | undefined {
  try {
    return parsePidRecord(readFileSync(join(config.stack.state_dir, 'kafka', 'kafka.pid'), 'utf8'))?.pid;
  } catch {
    return undefined;
  }
}

interface CpuWindow {
  engineSeconds: number;
  brokerSeconds: number;
  machineBusySeconds: number;
  wallSeconds: number;
}

function cpuMeter(enginePids: () => (number | undefined)[]): () => CpuWindow {
  const broker = brokerPid();
  const engineSeconds = () => enginePids().reduce((sum: number, pid) => sum + cpuSecondsOfTree(pid), 0);
  const start = {
    engine: engineSeconds(),
    broker: cpuSecondsOfTree(broker),
    machine: machineBusySeconds(),
    wall: Date.now(),
  };
  return () => ({
    engineSeconds: engineSeconds() - start.engine,
    brokerSeconds: cpuSecondsOfTree(broker) - start.broker,
    machineBusySeconds: machineBusySeconds() - start.machine,
    wallSeconds: (Date.now() - start.wall) / 1000,
  });
}

interface EngineRun {
  throughput: ThroughputFigures;
  cpu: CpuWindow;
  loadAverage: string;
  txnExample: { appId: string; version: number }[];
  /** Ours only: CPU seconds of the streamer process's busiest threads since it started. */
  threads?: { thread: string; cpuSeconds: number }[];
}

// ---- ours -------------------------------------------------------------------------------------

function oursEnv(deltaRoot: string, topic: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LOGSTREAM_KAFKA_SERVERS: config.kafka.servers,
    LOGSTREAM_KAFKA_PARTITIONS: String(settings.partitions),
    LOGSTREAM_KAFKA_DLQ_TOPIC: `${topic}-dlq`,
    LOGSTREAM_KAFKA_ANOMALIES_TOPIC: `${topic}-anomalies`,
    LOGSTREAM_DELTA_ROOT: deltaRoot,
    LOGSTREAM_LOG_LEVEL: 'info',
  };
}

/** `logstream stream --no-search --model FILE` on the topic; resolves once its partitions are assigned. */
async function startOurs(topic: string, deltaRoot: string, modelFile: string): Promise<{ child: ChildProcess; assigned: Promise<void> }> {
  for (const name of [topic, `${topic}-dlq`, `${topic}-anomalies`]) created.add(name);
  const nodeOptions = [...settings.nodeFlags, ...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [])];
  const child = spawn(
    process.execPath,
    [...nodeOptions, 'bin/logstream.js', 'stream', '--no-search', '--model', modelFile, '--topic', topic, '--group', `${topic}-group`],
    { cwd: repository, env: oursEnv(deltaRoot, topic), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const assigned = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      if (line.includes('partitions assigned')) resolve();
      else if (/"level":(50|60)/.test(line)) console.error(`  ours: ${line}`);
    });
    child.once('exit', (code) => reject(new Error(`logstream stream exited (${code}) before its partitions were assigned`)));
  });
  assigned.catch(() => undefined);
  return { child, assigned };
}

async function stopOurs(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function oursThroughput(modelFile: string, work: string): Promise<EngineRun> {
  const deltaRoot = join(work, 'ours');
  const table = new CommitLog(join(deltaRoot, 'logs'));
  const startedAtMs = Date.now();
  const children = await Promise.all(Array.from({ length: settings.streamers }, () => startOurs(topics.main, deltaRoot, modelFile)));
  const pids = () => children.map(({ child }) => child.pid);
  const meter = cpuMeter(pids);
  const done = await table.waitForRows(settings.logs, 600_000, () => children.every(({ child }) => child.exitCode === null));
  const cpu = meter();
  const threads = pids().flatMap((pid) => threadCpuSeconds(pid));
  const loadAverage = load();
  await Promise.all(children.map(({ child }) => stopOurs(child)));
  table.poll();
  if (!done) log(`  ours: only ${table.rows} of ${settings.logs} rows reached Delta`);
  const anomalies = new CommitLog(join(deltaRoot, 'anomalies'));
  anomalies.poll();
  log(
    `  anomalies (each one an alert on the alerts topic): ${anomalies.rows.toLocaleString('en-US')} of ${table.rows.toLocaleString('en-US')} rows`,
  );
  log(`  threads (CPU s): ${threads.map((entry) => `${entry.thread} ${entry.cpuSeconds.toFixed(1)}`).join(', ')}`);
  return { throughput: throughputOf(table.commits, startedAtMs), cpu, loadAverage, txnExample: table.commits.at(-1)?.txns ?? [], threads };
}

async function oursLatency(kafka: KafkaClient, modelFile: string, work: string): Promise<LatencySpread> {
  const deltaRoot = join(work, 'ours-latency');
  await kafka.ensureTopic(topics.latencyOurs, settings.partitions);
  const { child, assigned } = await startOurs(topics.latencyOurs, deltaRoot, modelFile);
  await assigned;
  const table = new CommitLog(join(deltaRoot, 'logs'));
  const count = await offerLoad(topics.latencyOurs);
  await table.waitForRows(count, 120_000, () => child.exitCode === null);
  await stopOurs(child);
  table.poll();
  return commitLatency(table.tableDir, table.commits);
}

/** Runs `logstream generate` in its own process at the offered rate (as production would); returns the logs sent. */
async function offerLoad(topic: string): Promise<number> {
  const count = Math.round(settings.offeredRate * settings.latencySeconds);
  const output = await generateLoad({
    topic,
    rate: settings.offeredRate,
    count,
    env: { LOGSTREAM_KAFKA_SERVERS: config.kafka.servers, LOGSTREAM_KAFKA_PARTITIONS: String(settings.partitions) },
  });
  log(`  ${output.trim()}`);
  return count;
}

// ---- Spark ------------------------------------------------------------------------------------

interface SparkReply {
  event: string;
  atMs: number;
  [key: string]: unknown;
}

/** The Spark job process: fitted and warmed up, taking commands on stdin. */
class SparkJob {
  private readonly replies: SparkReply[] = [];
  private readonly stderrTail: string[] = [];
  private waiting?: (reply: SparkReply) => void;
  readonly startedAtMs = Date.now();
  readonly child: ChildProcess;

  constructor(spark: SparkInstall, work: string) {
    this.child = spawn(
      spark.python,
      [
        SPARK_JOB,
        'serve',
        '--ivy',
        spark.ivyDir,
        '--packages',
        spark.packages.join(','),
        '--bootstrap',
        config.kafka.servers,
        '--warmup-topic',
        topics.warmup,
        '--work',
        work,
        '--fit-rows',
        String(config.ml.training_samples),
        '--max-offsets-per-trigger',
        String(settings.maxOffsetsPerTrigger),
        '--warmup-max-offsets-per-trigger',
        String(Math.max(10_000, Math.ceil(settings.warmupLogs / 4))),
        '--shuffle-partitions',
        String(settings.shufflePartitions),
        '--master',
        settings.sparkMaster,
        '--scoring',
        settings.scoring,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYSPARK_PYTHON: spark.python, SPARK_LOCAL_IP: '127.0.0.1' } },
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const reply = JSON.parse(line) as SparkReply;
      if (this.waiting) this.waiting(reply);
      else this.replies.push(reply);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
    });
    this.child.once('exit', (code) => {
      if (code)
        console.error(
          `  the Spark job exited (${code}); the end of its output:\n${this.stderrTail.map((line) => `    ${line}`).join('\n')}`,
        );
    });
  }

  next(timeoutMs = 600_000): Promise<SparkReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the Spark job')), timeoutMs);
      const onExit = (code: number | null) => reject(new Error(`the Spark job exited (${code})`));
      this.child.once('exit', onExit);
      this.waiting = (reply) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        this.waiting = undefined;
        resolve(reply);
      };
    });
  }

  async expect(event: string, timeoutMs?: number): Promise<SparkReply> {
    const reply = await this.next(timeoutMs);
    if (reply.event !== event) throw new Error(`Spark job: expected ${event}, got ${JSON.stringify(reply)}`);
    return reply;
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  async quit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.send('quit');
    this.child.stdin!.end();
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 60_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** One micro-batch's rows and Spark's phase durations (StreamingQueryProgress.durationMs). */
type BatchDurations = { rows: number } & Record<string, number>;

function phaseSummary(batches: readonly BatchDurations[]): string {
  if (batches.length === 0) return 'no batches';
  const phases = ['triggerExecution', 'latestOffset', 'queryPlanning', 'addBatch', 'walCommit', 'commitOffsets'];
  const mean = (phase: string) => batches.reduce((sum, batch) => sum + (batch[phase] ?? 0), 0) / batches.length;
  return `mean per batch: ${cell(mean('rows'))} rows, ${phases.map((phase) => `${phase} ${cell(mean(phase))} ms`).join(', ')}`;
}

async function sparkRuns(
  kafka: KafkaClient,
  spark: SparkInstall,
  work: string,
): Promise<{ throughput: EngineRun; latency: LatencySpread | null; setup: Record<string, unknown> }> {
  const job = new SparkJob(spark, join(work, 'spark'));
  try {
    const started = await job.expect('started');
    log(`  Spark ${started.sparkVersion} up in ${((started.atMs - job.startedAtMs) / 1000).toFixed(1)} s`);
    const fitted = await job.expect('fitted');
    log(`  scaler + K-means (k=${fitted.k}) fitted on ${fitted.rows} rows in ${(fitted.seconds as number).toFixed(1)} s (not timed)`);
    const warm = await job.expect('warm');
    log(
      `  warm-up run: ${warm.rows} rows in ${warm.batches} micro-batches, ${(warm.seconds as number).toFixed(1)} s (${Math.round((warm.rows as number) / (warm.seconds as number))} rows/s, JVM cold)`,
    );
    const tableDir = join(work, 'spark', 'logs');
    const table = new CommitLog(tableDir);
    const meter = cpuMeter(() => [job.child.pid]);
    const startedAtMs = Date.now();
    log(`  measured run (load average ${load()})`);
    job.send(`throughput ${topics.main} ${tableDir}`);
    const drained = await job.expect('drained');
    log(`  Spark measured run: ${drained.batches} micro-batches; ${phaseSummary(drained.batchDurations as BatchDurations[])}`);
    const cpu = meter();
    const loadAverage = load();
    table.poll();
    const throughput: EngineRun = {
      throughput: throughputOf(table.commits, startedAtMs),
      cpu,
      loadAverage,
      txnExample: table.commits.at(-1)?.txns ?? [],
    };
    let latency: LatencySpread | null = null;
    let latencyBatches: BatchDurations[] = [];
    if (!args['skip-latency']) {
      await kafka.ensureTopic(topics.latencySpark, settings.partitions);
      created.add(topics.latencySpark);
      const latencyDir = join(work, 'spark', 'latency');
      job.send(`latency ${topics.latencySpark} ${latencyDir}`);
      await job.expect('running');
      const latencyTable = new CommitLog(latencyDir);
      const count = await offerLoad(topics.latencySpark);
      await latencyTable.waitForRows(count, 120_000, () => job.child.exitCode === null);
      job.send('stop');
      const stopped = await job.expect('stopped');
      log(`  Spark latency run: ${stopped.batches} micro-batches; ${phaseSummary(stopped.batchDurations as BatchDurations[])}`);
      latencyBatches = stopped.batchDurations as BatchDurations[];
      latencyTable.poll();
      latency = await commitLatency(latencyDir, latencyTable.commits);
    }
    return {
      throughput,
      latency,
      setup: {
        startSeconds: (started.atMs - job.startedAtMs) / 1000,
        fitSeconds: fitted.seconds,
        fitRows: fitted.rows,
        warmUp: { rows: warm.rows, batches: warm.batches, seconds: warm.seconds },
        measuredBatches: drained.batchDurations,
        latencyBatches,
      },
    };
  } finally {
    await job.quit();
  }
}

// ---- report -----------------------------------------------------------------------------------

const round = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value) ? null : Math.round(value);
const cell = (value: number | null | undefined) => (round(value) === null ? '-' : round(value)!.toLocaleString('en-US'));

function printTable(
  ours: EngineRun | null,
  spark: EngineRun | null,
  latency: { ours: LatencySpread | null; spark: LatencySpread | null },
): void {
  const rows: [string, (run: EngineRun) => string][] = [
    ['rows', (run) => cell(run.throughput.rows)],
    ['commits (logs table)', (run) => cell(run.throughput.commits)],
    ['rows/s, first to last commit', (run) => cell(run.throughput.rowsPerSecond)],
    ['seconds, first to last commit', (run) => run.throughput.firstToLastSeconds.toFixed(1)],
    ['rows/s including start', (run) => cell(run.throughput.rowsPerSecondIncludingStart)],
    ['rows/s, second half of the rows', (run) => cell(run.throughput.secondHalfRowsPerSecond)],
    ['rows per engine CPU second', (run) => cell(run.throughput.rows / run.cpu.engineSeconds)],
    ['engine CPU s (of the window)', (run) => `${run.cpu.engineSeconds.toFixed(1)} / ${run.cpu.wallSeconds.toFixed(1)} wall`],
    ['broker CPU s', (run) => run.cpu.brokerSeconds.toFixed(1)],
    ['rest of machine CPU s', (run) => (run.cpu.machineBusySeconds - run.cpu.engineSeconds - run.cpu.brokerSeconds).toFixed(1)],
    ['load average after', (run) => run.loadAverage],
  ];
  const width = 32;
  console.log('');
  console.log(`${''.padEnd(width)}${'ours'.padStart(22)}${'Spark'.padStart(22)}`);
  for (const [label, value] of rows)
    console.log(`${label.padEnd(width)}${(ours ? value(ours) : '-').padStart(22)}${(spark ? value(spark) : '-').padStart(22)}`);
  const spread = (figures: LatencySpread | null) => (figures ? `${cell(figures.p50Ms)} / ${cell(figures.p99Ms)}` : '-');
  console.log(
    `${`commit latency p50 / p99 ms @${settings.offeredRate}/s`.padEnd(width)}${spread(latency.ours).padStart(22)}${spread(latency.spark).padStart(22)}`,
  );
  if (ours && spark) {
    console.log('');
    console.log(
      `ratio ours / Spark: ${(ours.throughput.rowsPerSecond / spark.throughput.rowsPerSecond).toFixed(2)}x first to last commit, ${(ours.throughput.rowsPerSecondIncludingStart / spark.throughput.rowsPerSecondIncludingStart).toFixed(2)}x including start (ours: process start; Spark: query start in a warm JVM), ${(ours.throughput.secondHalfRowsPerSecond / spark.throughput.secondHalfRowsPerSecond).toFixed(2)}x over the second half of the rows`,
    );
  }
}

const kafka = createKafkaClient({ ...config.kafka, client_id: `bench-peer-${runId}` });
const work = await mkdtemp(join(tmpdir(), 'bench-peer-'));
try {
  log(`peer benchmark: ${settings.logs.toLocaleString('en-US')} logs, ${settings.partitions} partitions, load average ${load()}`);
  const spark = args['skip-spark']
    ? undefined
    : await ensureSpark(config.stack.cache_dir, (line) => log(`  ${line}`)).catch((error: unknown) => {
        log(`Spark could not be installed, running ours only: ${(error as Error).message}`);
        return undefined;
      });
  log('producing the topics');
  await produce(kafka, topics.main, settings.logs, BENCH_SITE_SEED);
  if (spark) await produce(kafka, topics.warmup, settings.warmupLogs, 11);

  let ours: EngineRun | null = null;
  let oursLatencySpread: LatencySpread | null = null;
  if (!args['skip-ours']) {
    const { model, rows, seconds } = await trainBenchModel(config, settings.offeredRate, 'bench:peer');
    const modelFile = join(work, 'model.json');
    await writeFile(modelFile, serializeModel(model));
    log(
      `ours: model k=${model.training.k} trained on ${rows} rows in ${seconds.toFixed(1)} s (not timed); logstream stream (load average ${load()})`,
    );
    ours = await oursThroughput(modelFile, work);
    log(
      `  ${cell(ours.throughput.rowsPerSecond)} rows/s first to last commit, ${cell(ours.throughput.rowsPerSecondIncludingStart)} including process start`,
    );
    if (!args['skip-latency']) {
      log(`ours: latency at ${settings.offeredRate} logs/s offered for ${settings.latencySeconds} s`);
      oursLatencySpread = await oursLatency(kafka, modelFile, work);
      log(
        `  commit latency p50 ${cell(oursLatencySpread.p50Ms)} ms, p99 ${cell(oursLatencySpread.p99Ms)} ms over ${oursLatencySpread.rows} rows`,
      );
    }
  }

  let sparkRun: Awaited<ReturnType<typeof sparkRuns>> | null = null;
  if (spark) {
    log(
      `Spark: ${settings.sparkMaster}, maxOffsetsPerTrigger ${settings.maxOffsetsPerTrigger}, shuffle partitions ${settings.shufflePartitions}, scoring ${settings.scoring} (load average ${load()})`,
    );
    sparkRun = await sparkRuns(kafka, spark, work);
    log(
      `  ${cell(sparkRun.throughput.throughput.rowsPerSecond)} rows/s first to last commit, ${cell(sparkRun.throughput.throughput.rowsPerSecondIncludingStart)} including query start`,
    );
    if (sparkRun.latency)
      log(
        `  commit latency p50 ${cell(sparkRun.latency.p50Ms)} ms, p99 ${cell(sparkRun.latency.p99Ms)} ms over ${sparkRun.latency.rows} rows`,
      );
  }

  printTable(ours, sparkRun?.throughput ?? null, { ours: oursLatencySpread, spark: sparkRun?.latency ?? null });
  console.log(
    JSON.stringify({
      benchmark: 'peer',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverageAtEnd: loadavg() },
      settings: {
        ...settings,
        batchMaxRows: config.streaming.batch_max_rows,
        batchMaxWaitMs: config.streaming.batch_max_wait_ms,
        kafkaClient: 'kafkajs',
      },
      ours: ours ? { ...ours, latency: oursLatencySpread } : null,
      spark: sparkRun ? { ...sparkRun.throughput, latency: sparkRun.latency, setup: sparkRun.setup } : null,
      ratio: ours && sparkRun ? ours.throughput.rowsPerSecond / sparkRun.throughput.throughput.rowsPerSecond : null,
    }),
  );
} catch (error) {
  console.log(`benchmark could not finish: ${(error as Error).message}`);
} finally {
  for (const topic of created) await kafka.deleteTopic(topic).catch(() => undefined);
  await kafka.close();
  await rm(work, { recursive: true, force: true });
}
