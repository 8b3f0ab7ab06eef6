// Test helpers for Temporal: configuration pointing at the real server, one workflow bundle
// per test run (cached on disk by source hash), in-process workers, polling with a deadline.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { loadConfig } from '../../config/load.js';
import type { PipelineConfig } from '../../config/schema.js';
import { bundleWorkflows, createLogstreamWorkers, type LogstreamWorkers, WORKFLOWS_PATH } from '../../activities/worker.js';
import type { ActivityDependencies } from '../../activities/ports.js';
import { installWorkerRuntime } from '../../activities/runtimeLogger.js';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { waitFor as waitUntil } from './stack.js';

/** Configuration from the usual sources (so LOGSTREAM_TEMPORAL_ADDRESS applies) with per-test task queues. */
export function testConfig(testName: string, overrides: DeepPartial<PipelineConfig> = {}): PipelineConfig {
  const base = loadConfig().config;
  const suffix = `${testName}-${randomUUID().slice(0, 8)}`;
  const merged = merge(base, overrides) as PipelineConfig;
  return {
    ...merged,
    temporal: {
      ...merged.temporal,
      task_queue: overrides.temporal?.task_queue ?? `logstream-test-${suffix}`,
      streamer_task_queue: overrides.temporal?.streamer_task_queue ?? `logstream-streamers-test-${suffix}`,
    },
  };
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Bundles the workflows once per source state; later test files in the run reuse the file. */
export async function workflowBundle(): Promise<WorkflowBundleOption> {
  const workflowsDir = join(WORKFLOWS_PATH, '..');
  const hash = createHash('sha256');
  for (const name of readdirSync(workflowsDir).sort()) hash.update(name).update(readFileSync(join(workflowsDir, name)));
  const cacheFile = join(tmpdir(), `logstream-workflow-bundle-${hash.digest('hex').slice(0, 16)}.js`);
  if (existsSync(cacheFile)) return { code: readFileSync(cacheFile, 'utf8') };
  const bundle = (await bundleWorkflows()) as { code: string };
  writeFileSync(cacheFile, bundle.code);
  return bundle;
}

export async function testClient(config: PipelineConfig): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 5_000 });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Starts the logstream workers in this process; returns them and a stop() that waits for shutdown. */
export async function startWorkers(
  deps: ActivityDependencies,
  identity?: string,
): Promise<{ workers: LogstreamWorkers; stop: () => Promise<void> }> {
  installWorkerRuntime(process.env.LOGSTREAM_LOG_LEVEL ?? 'warn');
  const workers = await createLogstreamWorkers({ deps, workflowBundle: await workflowBundle(), identity });
  const running = workers.run();
  return {
    workers,
    stop: async () => {
      workers.shutdown();
      await running;
    },
  };
}

/** The shared poller (test/helpers/stack.ts) with positional timeout and interval, as these tests call it. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  return waitUntil(what, probe, { timeoutMs, intervalMs });
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(base: unknown, override: unknown): unknown {
  if (typeof base !== 'object' || base === null || typeof override !== 'object' || override === null) return override ?? base;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) result[key] = value === undefined ? result[key] : merge(result[key], value);
  return result;
}

/**
 * The LOGSTREAM_* names of a pipeline of its own for a spawned worker: topic, consumer group, DLQ
 * and alert topics, lakehouse and task queues, all derived from `name`, so tests never share them.
 */
export function pipelineEnv(name: string, deltaRoot: string) {
  return {
    LOGSTREAM_KAFKA_TOPIC: name,
    LOGSTREAM_KAFKA_CONSUMER_GROUP: `${name}-group`,
    LOGSTREAM_KAFKA_DLQ_TOPIC: `${name}-dlq`,
    LOGSTREAM_KAFKA_ANOMALIES_TOPIC: `${name}-anomalies`,
    LOGSTREAM_DELTA_ROOT: deltaRoot,
    LOGSTREAM_TEMPORAL_TASK_QUEUE: `${name}-control`,
    LOGSTREAM_TEMPORAL_STREAMER_TASK_QUEUE: `${name}-streamers`,
  };
}

export interface SpawnedWorker {
  identity: string;
  child: import('node:child_process').ChildProcess;
  /** Everything the worker wrote to stderr so far (JSON lines). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** Runs `node bin/logstream.js worker` as its own process with the given LOGSTREAM_* environment. */
export async function spawnWorker(identity: string, env: Record<string, string>, readyTimeoutMs = 60_000): Promise<SpawnedWorker> {
  const { spawn } = await import('node:child_process');
  const root = join(WORKFLOWS_PATH, '..', '..');
  const child = spawn(process.execPath, logstreamArgs('worker', '--identity', identity), {
    cwd: root,
    env: { ...process.env, LOGSTREAM_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker = { identity, child, output: () => output, exited };
  await waitFor(
    `worker ${identity} ready`,
    () => {
      if (child.exitCode !== null) throw new Error(`worker ${identity} exited with ${child.exitCode}: ${output.slice(-2000)}`);
      return output.includes('"msg":"worker ready"');
    },
    readyTimeoutMs,
  );
  return worker;
}

/** Where recorded workflow histories live; replayed by test/unit/workflows-replay.test.ts. */
export const HISTORY_FIXTURES = join(WORKFLOWS_PATH, '..', '..', 'test', 'fixtures', 'histories');

/**
 * Replays a finished workflow's history against the current bundle (fails on non-determinism).
 * With RECORD_HISTORIES=1 also saves it as test/fixtures/histories/<fixture>.history.bin: the binary
 * protobuf History. (Not JSON: the SDK's JSON history reader needs @temporalio/common and
 * @temporalio/proto to share one protobufjs, which this install does not.)
 */
export async function replayRecorded(client: Client, workflowId: string, runId: string | undefined, fixture: string): Promise<void> {
  const { Worker } = await import('@temporalio/worker');
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  if (process.env.RECORD_HISTORIES === '1') {
    const { mkdirSync } = await import('node:fs');
    // CommonJS package: its namespace arrives as the default export under ESM.
    const { temporal } = (await import('@temporalio/proto')).default;
    mkdirSync(HISTORY_FIXTURES, { recursive: true });
    writeFileSync(join(HISTORY_FIXTURES, `${fixture}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
  }
}
