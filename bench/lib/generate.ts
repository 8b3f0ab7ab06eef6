// The streamer benchmarks' offered load: `logstream generate` in its own process, as production
// would run its producers, so producing does not compete with the measured process's event loop.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { BENCH_SITE_SEED } from './benchModel.js';

const repository = fileURLToPath(new URL('../..', import.meta.url));

/** Sends `count` logs of the benchmark site to `topic` at `rate` logs/s; resolves with what the command printed. */
export async function generateLoad(options: { topic: string; rate: number; count: number; env: NodeJS.ProcessEnv }): Promise<string> {
  const args = [
    '--rate',
    String(options.rate),
    '--count',
    String(options.count),
    '--topic',
    options.topic,
    '--seed',
    String(BENCH_SITE_SEED),
  ];
  const generate = spawn(process.execPath, logstreamArgs('generate', ...args), {
    cwd: repository,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  generate.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await once(generate, 'exit');
  return output;
}
