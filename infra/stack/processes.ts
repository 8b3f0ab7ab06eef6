// Starting services as detached processes and stopping exactly the ones the stack started.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatPidRecord, isSameProcess, parsePidRecord, parseStartTicks, type ObservedProcess, type PidRecord } from './pidRecord.js';
import type { StartCommand } from './service.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function observeProcess(pid: number): ObservedProcess {
  const stat = readText(`/proc/${pid}/stat`);
  return { cmdline: readText(`/proc/${pid}/cmdline`), startTicks: stat ? parseStartTicks(stat) : undefined };
}

/** A zombie (exited, not yet reaped by its parent) still has /proc entries but is gone for our purposes. */
function isZombie(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return false;
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

export function readPidRecord(pidFile: string): PidRecord | undefined {
  const text = readText(pidFile);
  return text === undefined ? undefined : parsePidRecord(text);
}

/** True when the pid in the record is alive and is still the process the stack started. */
export function isRecordedProcessAlive(record: PidRecord): boolean {
  return isSameProcess(record, observeProcess(record.pid)) && !isZombie(record.pid);
}

/**
 * Starts the command in its own session and process group, with stdout and stderr appended
 * to logFile, and writes the pid file. The child outlives this process.
 */
export function startDetached(start: StartCommand, logFile: string, pidFile: string): PidRecord {
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'a');
  writeFileSync(logFd, `\n--- ${new Date().toISOString()} starting: ${[start.command, ...start.args].join(' ')}\n`);
  try {
    const child = spawn(start.command, start.args, {
      cwd: start.cwd,
      env: { ...process.env, ...start.env },
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${start.command}`);
    child.unref();
    const observed = observeProcess(child.pid);
    const record: PidRecord = {
      pid: child.pid,
      // What /proc shows is the truth to compare against later (argv as exec'd).
      command: [start.command, ...start.args],
      ...(start.processTitle === undefined ? {} : { title: start.processTitle }),
      startTicks: observed.startTicks,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(pidFile, formatPidRecord(record));
    return record;
  } finally {
    closeSync(logFd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole process group (services such as mlflow run worker children).
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export type StopOutcome = 'stopped' | 'killed' | 'not-running';

/**
 * Stops the recorded process: SIGTERM to its process group, SIGKILL after graceMs.
 * Does nothing (and reports not-running) when the pid now belongs to another process.
 */
export async function stopRecordedProcess(record: PidRecord, graceMs: number): Promise<StopOutcome> {
  if (!isRecordedProcessAlive(record)) return 'not-running';
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRecordedProcessAlive(record)) return 'stopped';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!isRecordedProcessAlive(record)) return 'stopped';
  signalGroup(record.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && isRecordedProcessAlive(record)) await new Promise((resolve) => setTimeout(resolve, 100));
  return 'killed';
}

export function removePidFile(pidFile: string): void {
  rmSync(pidFile, { force: true });
}
