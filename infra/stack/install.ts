// Installing into the cache so an interrupted install is redone, never half-used:
// everything is built in a staging folder next to the target and renamed into place at the end.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InstallError } from './errors.js';

/** Builds targetDir through build(stagingDir) and renames the staging folder into place only when build succeeds. */
export async function installAtomically(targetDir: string, build: (stagingDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(targetDir);
  mkdirSync(parent, { recursive: true });
  const stagingPrefix = `${basename(targetDir)}.partial-`;
  // Leftovers of interrupted installs (any process) are useless: an install is redone from scratch.
  for (const name of readdirSync(parent)) {
    if (name.startsWith(stagingPrefix)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const stagingDir = join(parent, `${stagingPrefix}${process.pid}`);
  mkdirSync(stagingDir, { recursive: true });
  try {
    await build(stagingDir);
  } catch (error) {
    rmSync(stagingDir, { recursive: true, force: true });
    throw error;
  }
  // isInstalled() said no, so whatever sits at targetDir is incomplete.
  if (existsSync(targetDir)) rmSync(targetDir, { recursive: true, force: true });
  renameSync(stagingDir, targetDir);
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Called with every output line (stdout and stderr), e.g. to show progress. */
  onLine?: (line: string) => void;
  /** Secrets the command may echo: shown as *** in output lines and in the error. */
  redact?: string[];
}

/** Runs an install command; on failure throws InstallError with its last output lines. */
export async function runInstallCommand(service: string, command: string, args: string[], options: RunOptions = {}): Promise<void> {
  const lastLines: string[] = [];
  const secrets = (options.redact ?? []).filter((secret) => secret.length > 0);
  const remember = (raw: string) => {
    const line = secrets.reduce((text, secret) => text.split(secret).join('***'), raw);
    lastLines.push(line);
    if (lastLines.length > 20) lastLines.shift();
    options.onLine?.(line);
  };
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) remember(line);
      });
      stream.on('end', () => {
        if (pending) remember(pending);
      });
    }
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).catch((error: unknown) => {
    throw new InstallError(service, `${service}: could not run ${command}: ${(error as Error).message}`, { cause: error });
  });
  if (exitCode !== 0) {
    const output = lastLines
      .filter((line) => line.trim())
      .map((line) => `    ${line}`)
      .join('\n');
    throw new InstallError(service, `${service}: install step failed (exit ${exitCode}): ${command} ${args.join(' ')}\n${output}`);
  }
}

/** True when the command is an executable on PATH. */
export function commandOnPath(command: string, pathVariable = process.env.PATH ?? ''): boolean {
  if (command.includes('/')) return existsSync(command);
  return pathVariable
    .split(':')
    .filter(Boolean)
    .some((folder) => existsSync(join(folder, command)));
}
