// The local service stack: installs services into the cache, starts them as detached processes,
// waits until each is healthy, reports status and stops exactly what it started.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { UsageError } from '../../config/errors.js';
import type { PipelineConfig } from '../../config/schema.js';
import { PortTakenError, ServiceStartError, StackError, ToolchainMissingError } from './errors.js';
import { commandOnPath } from './install.js';
import { withLock } from './lock.js';
import { tailFile } from './logTail.js';
import { isPortInUse, portHolder } from './ports.js';
import { isRecordedProcessAlive, readPidRecord, removePidFile, startDetached, stopRecordedProcess } from './processes.js';
import type { PidRecord } from './pidRecord.js';
import type { ServiceSpec, StackPaths } from './service.js';
import type { ServiceStatus } from './statusTable.js';

const DEFAULT_STOP_GRACE_SECONDS = 20;
const HEALTH_POLL_MS = 500;
const LOG_LINES_ON_FAILURE = 30;

export interface StackContext {
  config: PipelineConfig;
  /** "section.key" of every configuration key the user set; a set externalKey means "use mine". */
  explicitKeys: ReadonlySet<string>;
  paths: StackPaths;
  services: readonly ServiceSpec[];
  /** Progress and result lines for people. */
  log: (line: string) => void;
}

export interface ServiceFiles {
  dir: string;
  logFile: string;
  pidFile: string;
}

/** The repository's infra/ folder (this file lives in infra/stack/). */
export const repositoryInfraDir = fileURLToPath(new URL('..', import.meta.url));

export function stackPaths(config: PipelineConfig, infraDir = repositoryInfraDir): StackPaths {
  return { cacheDir: config.stack.cache_dir, stateDir: config.stack.state_dir, infraDir };
}

export function serviceFiles(paths: StackPaths, service: string): ServiceFiles {
  const dir = join(paths.stateDir, service);
  return { dir, logFile: join(dir, `${service}.log`), pidFile: join(dir, `${service}.pid`) };
}

/**
 * The services a command acts on: the named ones, else every service that is not optional.
 * Unknown names are a usage error listing the known ones.
 */
export function selectServices(all: readonly ServiceSpec[], names: readonly string[]): ServiceSpec[] {
  if (names.length === 0) return all.filter((service) => !service.optional);
  const known = new Map(all.map((service) => [service.name, service]));
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown service ${unknown.map((name) => `"${name}"`).join(', ')}`,
      `services are ${all.map((service) => service.name).join(', ')}`,
    );
  }
  return [...new Set(names)].map((name) => known.get(name)!);
}

export function isExternal(context: StackContext, service: ServiceSpec): boolean {
  return service.externalKey !== undefined && context.explicitKeys.has(service.externalKey);
}

/** The pid record of a running service the stack started; removes a stale pid file. */
function runningRecord(files: ServiceFiles): PidRecord | undefined {
  const record = readPidRecord(files.pidFile);
  if (!record) {
    if (existsSync(files.pidFile)) removePidFile(files.pidFile);
    return undefined;
  }
  if (isRecordedProcessAlive(record)) return record;
  removePidFile(files.pidFile);
  return undefined;
}

export async function serviceStatus(context: StackContext, service: ServiceSpec): Promise<ServiceStatus> {
  const url = service.url(context.config);
  const healthy = await service.healthy(context.config);
  if (isExternal(context, service)) {
    return { service: service.name, state: 'external', healthy, url, version: '(external)', installed: service.isInstalled(context.paths) };
  }
  const files = serviceFiles(context.paths, service.name);
  const record = runningRecord(files);
  const installed = service.isInstalled(context.paths);
  return {
    service: service.name,
    state: record ? 'running' : 'stopped',
    healthy,
    url,
    version: installed ? service.version(context.paths) : '-',
    installed,
    pid: record?.pid,
    logFile: existsSync(files.logFile) ? files.logFile : undefined,
  };
}

export async function stackStatus(context: StackContext, names: readonly string[]): Promise<ServiceStatus[]> {
  const selected = names.length === 0 ? [...context.services] : selectServices(context.services, names);
  return Promise.all(selected.map((service) => serviceStatus(context, service)));
}

function logTailText(logFile: string): string {
  const lines = tailFile(logFile, LOG_LINES_ON_FAILURE);
  return lines.length ? `\n  last lines of ${logFile}:\n${lines.map((line) => `    ${line}`).join('\n')}` : '';
}

async function waitHealthy(context: StackContext, service: ServiceSpec, record: PidRecord, files: ServiceFiles): Promise<number> {
  const started = Date.now();
  const timeoutMs = context.config.stack.start_timeout_seconds * 1000;
  for (;;) {
    if (await service.healthy(context.config)) return Date.now() - started;
    if (!isRecordedProcessAlive(record)) {
      removePidFile(files.pidFile);
      throw new ServiceStartError(
        service.name,
        `${service.name} exited while starting (log: ${files.logFile})${logTailText(files.logFile)}`,
        {
          logFile: files.logFile,
          hint: `read the log above, fix the cause, then run: logstream stack up ${service.name}`,
        },
      );
    }
    if (Date.now() - started > timeoutMs) {
      throw new ServiceStartError(
        service.name,
        `${service.name} did not become healthy within ${context.config.stack.start_timeout_seconds} s (pid ${record.pid} still running; log: ${files.logFile})${logTailText(files.logFile)}`,
        {
          logFile: files.logFile,
          hint: `raise stack.start_timeout_seconds if the machine is just slow, or run: logstream stack down ${service.name} && logstream stack up ${service.name}`,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
}

function checkToolchains(service: ServiceSpec, installed: boolean): void {
  for (const toolchain of service.toolchains) {
    // Install-only tools (go, mvn) do not matter once the service is installed; runtimes (java, python3) always do.
    if (installed && !['java', 'python3'].includes(toolchain.command)) continue;
    if (!commandOnPath(toolchain.command)) throw new ToolchainMissingError(service.name, toolchain.command, toolchain.fix);
  }
}

/**
 * How long a start waits for a port to be released before it says the port is taken: a process
 * just stopped (by a restart, or by `stack down` right before) can hold its port for a moment.
 */
const PORT_RELEASE_WAIT_MS = 5000;

/** Waits until none of the service's ports is in use (PORT_RELEASE_WAIT_MS at most), then says who holds one that still is. */
async function checkPortsFree(service: ServiceSpec, config: PipelineConfig, say: (line: string) => void): Promise<void> {
  const deadline = Date.now() + PORT_RELEASE_WAIT_MS;
  for (const port of service.ports(config)) {
    let inUse = await isPortInUse(port);
    if (inUse) say(`port ${port} is in use; waiting up to ${PORT_RELEASE_WAIT_MS / 1000} s for it to be released`);
    while (inUse && Date.now() < deadline) {
      await delay(100);
      inUse = await isPortInUse(port);
    }
    if (!inUse) continue;
    const holder = portHolder(port);
    const useExisting = service.externalKey
      ? ` If it is a ${service.name} you run yourself, set ${service.externalKey} in the configuration and the stack will use it instead of starting one.`
      : '';
    const specific = holder ? service.portTakenHint?.(holder) : undefined;
    const stop =
      specific ?? `stop that process${holder?.startsWith('pid') ? ` (kill ${holder.split(' ')[1]})` : ''} and run the command again.`;
    throw new PortTakenError(service.name, port, holder, `${stop}${useExisting}`);
  }
}

export type UpOutcome = 'external' | 'already-running' | 'started';

interface UpResult {
  service: string;
  outcome?: UpOutcome;
  error?: unknown;
}

/** Starts (installing first if needed) one service and waits until it is healthy. */
async function upOne(context: StackContext, service: ServiceSpec): Promise<UpOutcome> {
  const say = (line: string) => context.log(`${service.name}: ${line}`);
  const url = service.url(context.config);
  if (isExternal(context, service)) {
    if (await service.healthy(context.config)) {
      say(`external (${service.externalKey} is set), healthy at ${url}`);
      return 'external';
    }
    throw new StackError(service.name, `${service.name} is external (${service.externalKey} is set) and does not answer at ${url}`, {
      hint: `start your ${service.name}, or remove ${service.externalKey} from the configuration so the stack starts one`,
    });
  }
  const files = serviceFiles(context.paths, service.name);
  const running = runningRecord(files);
  const outdated = running ? service.outdated?.(context.paths, context.config, files.dir) : undefined;
  if (running && outdated) {
    say(`restarting (pid ${running.pid}): ${outdated}`);
    await stopRecordedProcess(running, (service.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS) * 1000);
    removePidFile(files.pidFile);
  } else if (running) {
    if (await service.healthy(context.config)) {
      say(`already running (pid ${running.pid}) at ${url}`);
    } else {
      say(`running (pid ${running.pid}) but not healthy yet; waiting`);
      const waitedMs = await waitHealthy(context, service, running, files);
      say(`healthy after ${(waitedMs / 1000).toFixed(1)} s at ${url}`);
    }
    await service.afterStart?.(context.paths, context.config, files.dir, say);
    return 'already-running';
  }

  const installed = service.isInstalled(context.paths);
  checkToolchains(service, installed);
  await checkPortsFree(service, context.config, say);
  if (!installed) {
    const started = Date.now();
    say(`installing into ${service.installDir(context.paths)}`);
    await service.install(context.paths, say);
    say(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  mkdirSync(files.dir, { recursive: true });
  const command = await service.prepareStart(context.paths, context.config, files.dir);
  const record = startDetached(command, files.logFile, files.pidFile);
  say(`starting (pid ${record.pid}, log ${files.logFile})`);
  const waitedMs = await waitHealthy(context, service, record, files);
  say(`healthy after ${(waitedMs / 1000).toFixed(1)} s at ${url}`);
  await service.afterStart?.(context.paths, context.config, files.dir, say);
  return 'started';
}

/** Unexpected errors (a bug, a file system problem) still say which service they came from. */
function asStackError(service: string, error: unknown): unknown {
  if (error instanceof StackError || error instanceof UsageError) return error;
  return new StackError(service, `${service}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `stack up`: installs what is missing (one at a time, so progress stays readable), then starts
 * the services together and waits for each. Services that came up stay up when another fails.
 */
export async function stackUp(context: StackContext, names: readonly string[]): Promise<Map<string, UpOutcome>> {
  const selected = selectServices(context.services, names);
  mkdirSync(context.paths.stateDir, { recursive: true });
  const lockTimeoutMs = (context.config.stack.start_timeout_seconds + 600) * 1000;
  const results = await withLock(join(context.paths.stateDir, 'stack.lock'), lockTimeoutMs, async () => {
    const done: UpResult[] = [];
    // Installs are sequential (downloads and builds share 2 cores and the network); starts overlap.
    const toStart: ServiceSpec[] = [];
    for (const service of selected) {
      if (isExternal(context, service) || service.isInstalled(context.paths) || runningRecord(serviceFiles(context.paths, service.name))) {
        toStart.push(service);
        continue;
      }
      try {
        checkToolchains(service, false);
        await checkPortsFree(service, context.config, (line) => context.log(`${service.name}: ${line}`));
        const started = Date.now();
        context.log(`${service.name}: installing into ${service.installDir(context.paths)}`);
        await service.install(context.paths, (line) => context.log(`${service.name}: ${line}`));
        context.log(`${service.name}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        toStart.push(service);
      } catch (error) {
        done.push({ service: service.name, error: asStackError(service.name, error) });
      }
    }
    const started = await Promise.all(
      toStart.map(async (service): Promise<UpResult> => {
        try {
          const outcome = await upOne(context, service);
          return { service: service.name, outcome };
        } catch (error) {
          return { service: service.name, error: asStackError(service.name, error) };
        }
      }),
    );
    return [...done, ...started];
  });

  const failures = results.filter((result) => result.error !== undefined);
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1) {
    throw new StackError(
      'stack',
      `${failures.length} services failed to start: ${failures.map((failure) => failure.service).join(', ')}\n${failures.map((failure) => `- ${describeFailure(failure.error)}`).join('\n')}`,
      { hint: 'fix the causes above, then run: logstream stack up' },
    );
  }
  return new Map(results.map((result) => [result.service, result.outcome!]));
}

/**
 * `stack install`: installs the selected services into the cache without starting them
 * (e.g. to warm a CI machine's cache). Returns the services it installed.
 */
export async function stackInstall(context: StackContext, names: readonly string[]): Promise<string[]> {
  const selected = selectServices(context.services, names).filter((service) => !isExternal(context, service));
  const installed: string[] = [];
  mkdirSync(context.paths.stateDir, { recursive: true });
  await withLock(join(context.paths.stateDir, 'stack.lock'), 600_000, async () => {
    for (const service of selected) {
      if (service.isInstalled(context.paths)) {
        context.log(`${service.name}: already installed (${service.version(context.paths)})`);
        continue;
      }
      checkToolchains(service, false);
      const started = Date.now();
      context.log(`${service.name}: installing into ${service.installDir(context.paths)}`);
      await service.install(context.paths, (line) => context.log(`${service.name}: ${line}`));
      context.log(`${service.name}: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      installed.push(service.name);
    }
  });
  return installed;
}

export type DownOutcome = 'external' | 'not-running' | 'stopped' | 'killed';

/** `stack down`: stops the services this stack started (all of them, including optional ones, when none is named). */
export async function stackDown(context: StackContext, names: readonly string[]): Promise<Map<string, DownOutcome>> {
  const selected = names.length === 0 ? [...context.services] : selectServices(context.services, names);
  const outcomes = new Map<string, DownOutcome>();
  mkdirSync(context.paths.stateDir, { recursive: true });
  await withLock(join(context.paths.stateDir, 'stack.lock'), 60_000, async () => {
    await Promise.all(
      [...selected].reverse().map(async (service) => {
        const say = (line: string) => context.log(`${service.name}: ${line}`);
        if (isExternal(context, service)) {
          say(`external (${service.externalKey} is set), left alone`);
          outcomes.set(service.name, 'external');
          return;
        }
        const files = serviceFiles(context.paths, service.name);
        const record = readPidRecord(files.pidFile);
        if (!record || !isRecordedProcessAlive(record)) {
          if (existsSync(files.pidFile)) say('not running (removed a stale pid file)');
          else say('not running');
          removePidFile(files.pidFile);
          outcomes.set(service.name, 'not-running');
          return;
        }
        const graceSeconds = service.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS;
        const outcome = await stopRecordedProcess(record, graceSeconds * 1000);
        removePidFile(files.pidFile);
        say(
          outcome === 'killed'
            ? `killed (pid ${record.pid}) after it ignored SIGTERM for ${graceSeconds} s`
            : outcome === 'stopped'
              ? `stopped (pid ${record.pid})`
              : 'not running',
        );
        outcomes.set(service.name, outcome);
      }),
    );
  });
  return outcomes;
}
