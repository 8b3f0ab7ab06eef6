// `logstream … | head -5`: the real CLI in a child process whose stdout (or stderr) pipe is closed
// before it writes exits with status 0 and no stack trace. No services needed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DELTA_TABLES } from '../helpers/fixtures.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the CLI with one output pipe closed at once; resolves with the exit and what the other pipe got. */
function runIntoClosedPipe(
  args: string[],
  closed: 'stdout' | 'stderr',
): Promise<{ code: number | null; signal: string | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/logstream.js', ...args], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOGSTREAM_CONFIG: '' },
    });
    // The reader goes away before the command writes anything (it takes a second to start).
    child[closed].destroy();
    let other = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => {
      other += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, other }));
  });
}

describe('a closed output pipe', () => {
  it('stdout closed: `table rows` and `config show` exit 0 without a stack trace', async () => {
    for (const args of [
      ['table', 'rows', `${DELTA_TABLES}/simple_table`, '--limit', '5'],
      ['config', 'show'],
    ]) {
      const { code, signal, other } = await runIntoClosedPipe(args, 'stdout');
      assert.equal(signal, null, args.join(' '));
      assert.equal(code, 0, `${args.join(' ')}: ${other}`);
      assert.doesNotMatch(other, /EPIPE|Unhandled 'error' event|at .*\(node:/, args.join(' '));
    }
  });

  it('stderr closed: a command that reports an error exits 0 without a stack trace on stdout', async () => {
    const { code, signal, other } = await runIntoClosedPipe(['table', 'info', '/nonexistent/table'], 'stderr');
    assert.equal(signal, null);
    assert.equal(code, 0, other);
    assert.doesNotMatch(other, /EPIPE|Unhandled 'error' event/);
  });
});
