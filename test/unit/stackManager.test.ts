// The stack manager with a stand-in service (a tiny Node HTTP server): start, idempotent up,
// stop, pid-recycling safety, taken ports, early exits, external services and atomic installs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { configSchema, type PipelineConfig } from '../../config/schema.js';
import { InstallError, PortTakenError, ServiceStartError, ToolchainMissingError } from '../../infra/stack/errors.js';
import { installAtomically } from '../../infra/stack/install.js';
import { serviceFiles, stackDown, stackStatus, stackUp, type StackContext } from '../../infra/stack/manager.js';
import { formatPidRecord } from '../../infra/stack/pidRecord.js';
import { isRecordedProcessAlive, readPidRecord } from '../../infra/stack/processes.js';
import type { ServiceSpec } from '../../infra/stack/service.js';
import { freePort } from '../helpers/stack.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

const SERVER_SCRIPT = `
const port = Number(process.argv[1]);
if (process.argv[2] === 'crash') { console.error('fatal: cannot open the database'); process.exit(3); }
require('node:http').createServer((request, response) => response.end('ok')).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

function fakeService(port: number, options: { mode?: 'crash'; toolchain?: string; externalKey?: string } = {}): ServiceSpec {
  let installed = false;
  return {
    name: 'fake',
    description: 'a stand-in service',
    externalKey: options.externalKey,
    stopGraceSeconds: 2,
    toolchains: options.toolchain ? [{ command: options.toolchain, fix: 'install it' }] : [],
    ports: () => [port],
    url: () => `http://127.0.0.1:${port}`,
    installDir: (paths) => join(paths.cacheDir, 'fake'),
    isInstalled: () => installed,
    async install() {
      installed = true;
    },
    async prepareStart() {
      return { command: process.execPath, args: ['-e', SERVER_SCRIPT, String(port), ...(options.mode ? [options.mode] : [])] };
    },
    async healthy() {
      try {
        return (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) })).ok;
      } catch {
        return false;
      }
    },
    version: () => '1.0',
  };
}

function stackContext(service: ServiceSpec, explicitKeys: string[] = []): StackContext & { lines: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'logstream-stack-test-'));
  roots.push(root);
  const config: PipelineConfig = configSchema.parse({
    stack: { cache_dir: join(root, 'cache'), state_dir: join(root, 'state'), start_timeout_seconds: 15 },
  });
  const lines: string[] = [];
  return {
    config,
    explicitKeys: new Set(explicitKeys),
    paths: { cacheDir: config.stack.cache_dir, stateDir: config.stack.state_dir, infraDir: root },
    services: [service],
    log: (line) => lines.push(line),
    lines,
  };
}

test('up starts the service once, status shows it, down stops it and removes the pid file', async () => {
  const context = stackContext(fakeService(await freePort()));
  assert.equal((await stackUp(context, [])).get('fake'), 'started');
  const { pidFile, logFile } = serviceFiles(context.paths, 'fake');
  const record = readPidRecord(pidFile)!;
  assert.ok(isRecordedProcessAlive(record));
  assert.ok(existsSync(logFile));

  assert.equal((await stackUp(context, ['fake'])).get('fake'), 'already-running');
  assert.equal(readPidRecord(pidFile)!.pid, record.pid, 'a running healthy service is left alone');
  const [status] = await stackStatus(context, []);
  assert.deepEqual([status!.state, status!.healthy, status!.pid], ['running', true, record.pid]);

  assert.equal((await stackDown(context, [])).get('fake'), 'stopped');
  assert.equal(existsSync(pidFile), false);
  assert.equal(isRecordedProcessAlive(record), false);
  assert.equal((await stackStatus(context, []))[0]!.state, 'stopped');
});

test('down never signals a pid that now belongs to another process', async () => {
  const context = stackContext(fakeService(await freePort()));
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const { dir, pidFile } = serviceFiles(context.paths, 'fake');
    mkdirSync(dir, { recursive: true });
    // The pid is alive, but it is not the command the stack started.
    writeFileSync(pidFile, formatPidRecord({ pid: bystander.pid!, command: [process.execPath, '-e', 'server'], startedAt: '' }));
    assert.equal((await stackDown(context, ['fake'])).get('fake'), 'not-running');
    assert.equal(bystander.exitCode, null);
    assert.equal(bystander.signalCode, null);
    assert.equal(existsSync(pidFile), false, 'the stale pid file is removed');
  } finally {
    bystander.kill();
  }
});

test('a taken port is reported with the process that holds it', async () => {
  const port = await freePort();
  const squatter = createServer().listen(port, '127.0.0.1');
  await new Promise((resolve) => squatter.once('listening', resolve));
  try {
    const context = stackContext(fakeService(port, { externalKey: 'fake.url' }));
    await assert.rejects(stackUp(context, []), (error: unknown) => {
      assert.ok(error instanceof PortTakenError);
      assert.match(error.message, new RegExp(`port ${port} is already in use by pid ${process.pid}`));
      assert.match(error.hint ?? '', /set fake\.url/);
      return true;
    });
  } finally {
    squatter.close();
  }
});

test('a port released within a few seconds (a process still stopping) is waited for, and said so', async () => {
  const port = await freePort();
  const stopping = createServer().listen(port, '127.0.0.1');
  await new Promise((resolve) => stopping.once('listening', resolve));
  setTimeout(() => stopping.close(), 1000);
  const context = stackContext(fakeService(port));
  assert.equal((await stackUp(context, [])).get('fake'), 'started');
  assert.ok(context.lines.some((line) => line === `fake: port ${port} is in use; waiting up to 5 s for it to be released`));
  await stackDown(context, []);
});

test('a service that exits while starting fails at once with the end of its log', async () => {
  const context = stackContext(fakeService(await freePort(), { mode: 'crash' }));
  const started = Date.now();
  await assert.rejects(stackUp(context, []), (error: unknown) => {
    assert.ok(error instanceof ServiceStartError);
    assert.match(error.message, /fake exited while starting/);
    assert.match(error.message, /fatal: cannot open the database/);
    assert.equal(error.logFile, serviceFiles(context.paths, 'fake').logFile);
    return true;
  });
  assert.ok(Date.now() - started < 10_000, 'it does not wait for the start timeout');
});

test('a service whose config key the user set is not started; status calls it external', async () => {
  const port = await freePort();
  const context = stackContext(fakeService(port, { externalKey: 'fake.url' }), ['fake.url']);
  await assert.rejects(stackUp(context, []), /fake is external \(fake\.url is set\) and does not answer/);
  assert.equal(existsSync(serviceFiles(context.paths, 'fake').pidFile), false);
  const [status] = await stackStatus(context, []);
  assert.deepEqual([status!.state, status!.healthy], ['external', false]);
});

test('a missing toolchain is named with its fix', async () => {
  const context = stackContext(fakeService(await freePort(), { toolchain: 'no-such-compiler-xyz' }));
  await assert.rejects(
    stackUp(context, []),
    (error: unknown) => error instanceof ToolchainMissingError && /no-such-compiler-xyz/.test(error.message) && error.hint === 'install it',
  );
});

test('an install is renamed into place only when it completes; leftovers of interrupted ones are cleared', async () => {
  const root = mkdtempSync(join(tmpdir(), 'logstream-install-test-'));
  roots.push(root);
  const target = join(root, 'tool');
  mkdirSync(join(root, 'tool.partial-99999'));
  await assert.rejects(
    installAtomically(target, async (staging) => {
      writeFileSync(join(staging, 'half'), 'x');
      throw new InstallError('tool', 'download failed');
    }),
    /download failed/,
  );
  assert.deepEqual(readdirSync(root), [], 'no target, no staging folder');

  await installAtomically(target, async (staging) => writeFileSync(join(staging, 'VERSION'), '1\n'));
  assert.deepEqual(readdirSync(root), ['tool']);
  assert.deepEqual(readdirSync(target), ['VERSION']);
});

test('a service can explain who usually holds its port (e.g. a distro service)', async () => {
  const port = await freePort();
  const squatter = createServer().listen(port, '127.0.0.1');
  await new Promise((resolve) => squatter.once('listening', resolve));
  try {
    const service = {
      ...fakeService(port),
      portTakenHint: (holder: string) => (holder.includes(`pid ${process.pid}`) ? 'stop the distro service' : undefined),
    };
    await assert.rejects(
      stackUp(stackContext(service), []),
      (error: unknown) => error instanceof PortTakenError && error.hint === 'stop the distro service',
    );
  } finally {
    squatter.close();
  }
});

test('up restarts a running service whose configuration is outdated, and runs its after-start step each time', async () => {
  let version = 1;
  const afterStarts: string[] = [];
  const service: ServiceSpec = {
    ...fakeService(await freePort()),
    outdated: () => (version === 2 ? 'its configuration changed' : undefined),
    async afterStart(_paths, _config, dataDir) {
      afterStarts.push(dataDir);
    },
  };
  const context = stackContext(service);
  await stackUp(context, []);
  const { pidFile, dir } = serviceFiles(context.paths, 'fake');
  const first = readPidRecord(pidFile)!;
  assert.equal((await stackUp(context, [])).get('fake'), 'already-running');
  assert.equal(readPidRecord(pidFile)!.pid, first.pid);

  version = 2;
  assert.equal((await stackUp(context, [])).get('fake'), 'started', 'a restart counts as started by this run');
  const second = readPidRecord(pidFile)!;
  assert.notEqual(second.pid, first.pid);
  assert.equal(isRecordedProcessAlive(first), false, 'the outdated process is stopped');
  assert.ok(context.lines.some((line) => /fake: restarting \(pid \d+\): its configuration changed/.test(line)));
  assert.deepEqual(afterStarts, [dir, dir, dir]);
  await stackDown(context, []);
});
