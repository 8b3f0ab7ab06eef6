// Shared helpers for tests that use the local stack: waiting on a condition with a deadline,
// unique resource names, and a clear failure when a service is not running.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig } from '../../config/load.js';
import type { PipelineConfig } from '../../config/schema.js';
import { stackServices } from '../../infra/stack/services/index.js';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls probe until it returns a value other than undefined/false and returns that value;
 * fails with "timed out after N ms waiting for <what>" (plus the last probe error) at the deadline.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A name no other test run uses: prefix-<time>-<random>, lower case, safe for topics, indices and folders. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** The configuration a developer's `logstream` would use (file, LOGSTREAM_* variables, defaults). */
export function stackConfig(): PipelineConfig {
  return loadConfig().config;
}

/** True when the user pointed the configuration at their own instance of the service. */
export function isExternalService(name: string): boolean {
  const service = stackServices.find((candidate) => candidate.name === name);
  return service?.externalKey !== undefined && loadConfig().explicitKeys.has(service.externalKey);
}

/**
 * Fails at once, with the command that fixes it, when the service does not answer,
 * instead of letting the test hang on connection retries.
 */
export async function requireService(name: string, config: PipelineConfig = stackConfig()): Promise<PipelineConfig> {
  const service = stackServices.find((candidate) => candidate.name === name);
  if (!service) throw new Error(`no stack service named ${name}`);
  if (!(await service.healthy(config))) {
    throw new Error(
      `${name} is not running at ${service.url(config)}: run \`logstream stack up ${name}\` (npm test does it for you), or point ${service.externalKey} at a running one`,
    );
  }
  return config;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
