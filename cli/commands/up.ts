// `logstream up` (what `npm start` runs): the whole pipeline on the local stack in one command —
// stack up, a first model when none is registered, a worker, the schedules, the pipeline
// workflow and the traffic generator — with the UIs' URLs and a live status line. Ctrl-C stops
// what this command started, in reverse order, and leaves the machine as it found it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { tablePath } from '../../clients/delta/index.js';
import { LogstreamError } from '../../config/errors.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createMlflowClient } from '../../clients/mlflow/client.js';
import { redactUrl } from '../../config/secrets.js';
import { closeClient, connectClient } from '../../clients/temporal/connection.js';
import { ensureWorkerPolling, rethrowTemporalError } from '../../clients/temporal/control.js';
import { applySchedules, pauseSchedules, resumeSchedules, scheduleDefinitions } from '../../clients/temporal/schedules.js';
import { stackDown, stackUp } from '../../infra/stack/manager.js';
import { DEFAULT_PIPELINE_WORKFLOW_ID } from '../../workflows/ids.js';
import { statusQuery, stopSignal } from '../../workflows/signals.js';
import type { PipelineStatus, TrafficKind } from '../../workflows/types.js';
import { downloadModel } from '../../training/registry.js';
import { context, isInteractive } from '../context.js';
import { logstreamArgs } from '../nodeFlags.js';
import { parsePositiveInteger } from '../options.js';
import { statusLine } from '../up/statusLine.js';
import { stackContext } from './stack.js';

const WORKER_READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 90_000;
const GENERATOR_DURATION_SECONDS = 365 * 24 * 3600;
/** The note `logstream up` pauses its schedules with when it stops; only schedules paused with it are resumed on the next start. */
const UP_PAUSE_NOTE = 'paused by `logstream up` when it stopped (its worker runs them)';

interface UpOptions {
  rate: string;
  generator: boolean;
  train: boolean;
  trainingSamples: string;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Runs `logstream ARGS` as a child process with its output appended to a log file. */
function spawnCli(args: string[], logFile: string, configFile: string | undefined): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, logstreamArgs(...args), {
    env: { ...process.env, ...(configFile ? { LOGSTREAM_CONFIG: configFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches only `up`, which stops the children in the right order.
    detached: true,
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

/** Runs `logstream ARGS` to completion; fails with the log file named. */
async function runCli(args: string[], logFile: string, configFile: string | undefined): Promise<void> {
  const child = spawnCli(args, logFile, configFile);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new LogstreamError(`\`logstream ${args.join(' ')}\` failed (exit ${code})`, { hint: `see ${logFile}` });
}

async function stopChild(child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * With the generator on, trains and registers a first model from generated data when the registry
 * has no champion this code can load (none yet, or one of an older artifact schema).
 */
async function ensureChampion(config: PipelineConfig, runDir: string, samples: number, configFile: string | undefined): Promise<void> {
  const mlflow = createMlflowClient(config.mlflow);
  const champion = await mlflow.getVersionByAlias(config.mlflow.registered_model, 'champion').catch(() => undefined);
  const loadable =
    champion &&
    (await downloadModel(mlflow, champion).then(
      () => true,
      () => false,
    ));
  if (loadable) return;
  say(
    `${champion ? `the "champion" model (version ${champion.version}) cannot be loaded by this version` : 'no "champion" model in MLflow yet'}: training a first one on ${samples.toLocaleString('en-US')} generated logs (log: ${join(runDir, 'train.log')})`,
  );
  const data = join(runDir, 'training.jsonl');
  await runCli(
    ['generate', '--training-data', String(samples), '--out', data, '--seed', String(config.ml.seed)],
    join(runDir, 'train.log'),
    configFile,
  );
  await runCli(['train', '--data', data], join(runDir, 'train.log'), configFile);
}

async function waitForWorker(client: Client, config: PipelineConfig, worker: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
  for (;;) {
    if (worker.exitCode !== null)
      throw new LogstreamError(`the worker exited (code ${worker.exitCode}) before it was ready`, { hint: `see ${logFile}` });
    try {
      await ensureWorkerPolling(client, config.temporal.namespace, config.temporal.task_queue);
      return;
    } catch (error) {
      if (!(error instanceof LogstreamError)) rethrowTemporalError(error, config.temporal.address);
      if (Date.now() > deadline) throw new LogstreamError('the worker did not start polling within 3 minutes', { hint: `see ${logFile}` });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function startOrAttach(
  client: Client,
  config: PipelineConfig,
  traffic: TrafficKind,
): Promise<{ handle: WorkflowHandle; startedHere: boolean }> {
  try {
    const handle = await client.workflow.start('pipelineWorkflow', {
      workflowId: DEFAULT_PIPELINE_WORKFLOW_ID,
      taskQueue: config.temporal.task_queue,
      args: [{ traffic }],
    });
    return { handle, startedHere: true };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    say(`pipeline ${DEFAULT_PIPELINE_WORKFLOW_ID} is already running (started elsewhere): following it; Ctrl-C leaves it running`);
    return { handle: client.workflow.getHandle(DEFAULT_PIPELINE_WORKFLOW_ID), startedHere: false };
  }
}

/** What Ctrl-C does, which depends on whether this command started the pipeline and the generator (pure). */
export function ctrlCStops(startedPipeline: boolean, generating: boolean): string {
  const generator = generating ? 'the generator, ' : '';
  return startedPipeline
    ? `Ctrl-C stops ${generator}the pipeline (streamers commit their batch) and the worker, and pauses the schedules.`
    : `Ctrl-C stops ${generator}this command's worker and pauses the schedules; the pipeline keeps running (\`logstream stop\` stops it).`;
}

function printUrls(config: PipelineConfig, runDir: string, ctrlC: string): void {
  const host = config.temporal.address.split(':')[0];
  say('');
  say('LogStream is running:');
  say(
    `  Temporal Web UI   http://${host}:${config.temporal.ui_port}/namespaces/${config.temporal.namespace}/workflows/${DEFAULT_PIPELINE_WORKFLOW_ID}`,
  );
  say(`  MLflow UI         ${redactUrl(config.mlflow.tracking_uri)}`);
  say(
    `  Prometheus        ${redactUrl(config.prometheus.url)}   (worker metrics on ${config.prometheus.metrics_host}:${config.prometheus.metrics_port}/metrics)`,
  );
  say(
    `  ${config.elasticsearch.kind === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'}        ${redactUrl(config.elasticsearch.host)}/${config.elasticsearch.index_prefix}-logs-*/_search`,
  );
  say(`  Delta tables      ${config.delta.root}   (logstream table info ${tablePath(config.delta.root, 'logs')})`);
  say(`  logs of this run  ${runDir}`);
  say(`  ${ctrlC}`);
  say('');
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'run everything on the local stack: services, a first model, a worker, schedules, the pipeline and the traffic generator; Ctrl-C stops it',
    )
    .option('--rate <logs-per-second>', 'generated traffic', '20')
    .option('--no-generator', 'do not generate traffic (feed the topic yourself, e.g. with `logstream replay`)')
    .option('--no-train', 'do not train a first model when MLflow has no champion (the pipeline learns from Delta first)')
    .option('--training-samples <n>', 'generated logs to train the first model on', '50000')
    .action(async (options: UpOptions) => {
      const { config, file: configFile } = context();
      const rate = parsePositiveInteger('--rate', options.rate);
      const samples = parsePositiveInteger('--training-samples', options.trainingSamples);
      const runDir = join(config.stack.state_dir, 'runs', new Date().toISOString().replace(/[:.]/g, '-'));
      mkdirSync(runDir, { recursive: true });

      let interrupted = false;
      let wake: (() => void) | undefined;
      const onSignal = () => {
        if (interrupted) return;
        interrupted = true;
        say('\nstopping…');
        wake?.();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      const stack = stackContext();
      const outcomes = await stackUp(stack, []);
      const startedServices = [...outcomes].filter(([, outcome]) => outcome === 'started').map(([name]) => name);
      let worker: ChildProcess | undefined;
      let generator: ChildProcess | undefined;
      let client: Client | undefined;
      let pipeline: { handle: WorkflowHandle; startedHere: boolean } | undefined;
      let scheduleIds: string[] = [];
      try {
        // A generated first model only for generated traffic: a site's own logs are learned first.
        if (options.train && options.generator && !interrupted) await ensureChampion(config, runDir, samples, configFile);
        if (interrupted) return;
        say(`starting a worker (log: ${join(runDir, 'worker.log')})`);
        worker = spawnCli(['worker'], join(runDir, 'worker.log'), configFile);
        client = await connectClient(config.temporal);
        await waitForWorker(client, config, worker, join(runDir, 'worker.log'));
        const schedules = await applySchedules(client, scheduleDefinitions(config));
        scheduleIds = schedules.map((schedule) => schedule.scheduleId);
        const resumed = await resumeSchedules(client, scheduleIds, 'resumed by `logstream up`', UP_PAUSE_NOTE);
        say(
          `schedules: ${schedules.map((schedule) => `${schedule.scheduleId} ${schedule.outcome}${resumed.includes(schedule.scheduleId) ? ' (resumed)' : ''}`).join(', ')}`,
        );
        pipeline = await startOrAttach(client, config, options.generator ? 'generated' : 'site');
        await waitUntilRunning(pipeline.handle);
        if (options.generator && !interrupted) {
          say(`generating ${rate} logs/s into ${config.kafka.topic} (log: ${join(runDir, 'generator.log')})`);
          generator = spawnCli(
            ['generate', '--rate', String(rate), '--duration', String(GENERATOR_DURATION_SECONDS)],
            join(runDir, 'generator.log'),
            configFile,
          );
        }
        printUrls(config, runDir, ctrlCStops(pipeline.startedHere, generator !== undefined));
        await followStatus(
          pipeline.handle,
          worker,
          () => interrupted,
          (resolve) => (wake = resolve),
        );
      } finally {
        await stopChild(generator, 10_000);
        if (pipeline?.startedHere) {
          say('stopping the pipeline: streamers finish their batch and commit');
          await pipeline.handle.signal(stopSignal).catch(() => undefined);
          // The timer is cleared once the pipeline has stopped: left pending, it kept the process
          // alive for the rest of the 90 s after it printed "stopped.".
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            pipeline.handle.result().catch(() => undefined),
            new Promise((resolve) => {
              timer = setTimeout(resolve, STOP_TIMEOUT_MS);
            }),
          ]);
          clearTimeout(timer);
        }
        if (client && scheduleIds.length) {
          // Without this command's worker nobody runs what the schedules start: their runs would
          // wait, and fire at once on the next start. The next `logstream up` resumes them.
          const paused = await pauseSchedules(client, scheduleIds, UP_PAUSE_NOTE).catch(() => [] as string[]);
          if (paused.length)
            say(`paused the schedules until the next \`logstream up\` (or \`logstream schedules resume\`): ${paused.join(', ')}`);
        }
        if (client) await closeClient(client).catch(() => undefined);
        await stopChild(worker, 40_000);
        if (startedServices.length) {
          say(`stopping the services this command started: ${startedServices.join(', ')}`);
          await stackDown(stack, startedServices);
        }
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        say('stopped.');
      }
    });
}

/** The pipeline creates the topics, tables and index template first; the generator needs the topic. */
async function waitUntilRunning(handle: WorkflowHandle): Promise<void> {
  const deadline = Date.now() + WORKER_READY_TIMEOUT_MS;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined as PipelineStatus | undefined);
    if (status && status.state !== 'starting') return;
    if (Date.now() > deadline)
      throw new LogstreamError('the pipeline did not leave its starting state within 3 minutes', {
        hint: 'look at the pipeline workflow in the Temporal Web UI',
      });
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Shows the status line until interrupted (every 2 s on a terminal, every 30 s in a log). */
async function followStatus(
  handle: WorkflowHandle,
  worker: ChildProcess,
  interrupted: () => boolean,
  onWake: (wake: () => void) => void,
): Promise<void> {
  const interactive = isInteractive();
  const intervalMs = interactive ? 2000 : 30_000;
  while (!interrupted()) {
    if (worker.exitCode !== null)
      throw new LogstreamError(`the worker exited (code ${worker.exitCode})`, { hint: 'see its log under the run folder printed above' });
    const status = await handle.query(statusQuery).catch(() => undefined as PipelineStatus | undefined);
    const line = statusLine(status, new Date());
    if (interactive) process.stdout.write(`\r\x1b[2K${line}`);
    else process.stdout.write(`${line}\n`);
    if (status?.state === 'stopped') break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      onWake(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  if (interactive) process.stdout.write('\n');
}
