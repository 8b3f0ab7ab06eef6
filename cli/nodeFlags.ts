// The Node/V8 flags `logstream` runs with. bin/logstream.js's shebang and package.json's scripts
// carry the same flags (they cannot import this file); processes the CLI starts get them from here.
import { fileURLToPath } from 'node:url';

/**
 * `--single-threaded-gc`: V8 collects garbage on the thread that allocated it, instead of
 * sharing scavenges and marking with a pool of four helper threads. On a small machine the helpers
 * mostly compete with the broker, the Delta writer thread and each other for the same cores: on
 * the peer benchmark (2 cores, broker on the machine) the helpers' 8–9 CPU s per million rows fell
 * to about 4.5, the main thread and the writer took on about 0.6 s each, and the process used about
 * 9% less CPU per row (bench/peer/PROFILE.md, "Garbage collection on one thread"). The price is
 * longer pauses on the allocating thread; commit latency at 10,000 logs/s did not change.
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

const CLI = fileURLToPath(new URL('../bin/logstream.js', import.meta.url));

/**
 * `node` arguments that run `logstream ARGS` as the installed command runs: with the shebang's
 * flags, which `node bin/logstream.js` alone would drop.
 */
export function logstreamArgs(...args: string[]): string[] {
  return [...NODE_FLAGS, CLI, ...args];
}
