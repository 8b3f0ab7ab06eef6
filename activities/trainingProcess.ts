// Runs `logstream train` in a child process. K-means training is seconds to minutes of CPU on
// the main thread; inside the worker it would stall workflow tasks and streamer heartbeats.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logstreamArgs } from '../cli/nodeFlags.js';
import type { PipelineConfig } from '../config/schema.js';
import { LogstreamError } from '../config/errors.js';
import { childProcessSecrets } from '../config/secrets.js';
import type { TrainingOutcome } from '../workflows/types.js';

interface TrainCommandOutput {
  version?: string;
  trainingRows: number;
  promotion?: { promoted: boolean; reason: string };
  holdout: { f1: number; precision: number; recall: number; falsePositiveRate: number };
  /** The own-traffic gate, when the rows were the site's. */
  gate?: { f1: number; precision: number; recall: number; falsePositiveRate: number };
}

/** The outcome the training workflow returns, from `logstream train --json` output (pure). */
export function parseTrainOutput(stdout: string): TrainingOutcome {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: TrainCommandOutput;
  try {
    parsed = JSON.parse(line) as TrainCommandOutput;
  } catch {
    throw new LogstreamError(`logstream train printed no JSON result: ${line.slice(0, 200)}`);
  }
  if (!parsed.version || !parsed.promotion) throw new LogstreamError('logstream train did not register a model version');
  return {
    promoted: parsed.promotion.promoted,
    reason: parsed.promotion.reason,
    version: parsed.version,
    // The gate's figures when the site's own traffic judged the model, else the synthetic shop's.
    metrics: { ...numbersOf(parsed.gate ?? parsed.holdout), trainingRows: parsed.trainingRows },
  };
}

/** The numeric figures of a report: per-scenario breakdowns and other nested values stay in MLflow. */
function numbersOf(report: object): Record<string, number> {
  return Object.fromEntries(Object.entries(report).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

/**
 * Trains on a sample of the lakehouse's logs table in a child `logstream train`, which samples the
 * table itself (with the client statistics the streamer computed, see training/deltaSample.ts).
 */
export async function trainInChildProcess(config: PipelineConfig, signal: AbortSignal): Promise<TrainingOutcome> {
  const folder = await mkdtemp(join(tmpdir(), 'logstream-training-'));
  try {
    const configFile = join(folder, 'pipeline_config.json');
    // The child must see exactly the worker's configuration, not whatever LOGSTREAM_* it would inherit;
    // secrets stay references, and the variables they name come along.
    const secrets = childProcessSecrets(config, process.env);
    await writeFile(configFile, JSON.stringify(secrets.config), { mode: 0o600 });
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !name.startsWith('LOGSTREAM_') || name === 'LOGSTREAM_LOG_LEVEL'),
      ),
      ...secrets.env,
    };
    // With the installed command's V8 flags, so the activity trains as `logstream train` does from a shell.
    const stdout = await run(process.execPath, logstreamArgs('--config', configFile, 'train', '--json'), env, signal);
    return parseTrainOutput(stdout);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new LogstreamError(`logstream train exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`));
    });
  });
}
