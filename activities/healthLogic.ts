// Pure parts of the health check: overall verdict and heartbeat age.
import type { HealthCheck, HealthReport, PipelineStatus } from '../workflows/types.js';

/** Total lag above this many messages is a warning. */
export const LAG_WARNING_MESSAGES = 100_000;

/** down if any check fails, degraded if any warns, else ok; unknown checks do not count. */
export function summariseHealth(checks: HealthCheck[], now: Date): HealthReport {
  const overall = checks.some((check) => check.status === 'fail')
    ? 'down'
    : checks.some((check) => check.status === 'warn')
      ? 'degraded'
      : 'ok';
  return { checkedAt: now.toISOString(), overall, checks };
}

/** The oldest streamer heartbeat against the limit; activities that never heartbeated count as just started. */
export function heartbeatAgeCheck(heartbeatTimesMs: Array<number | undefined>, nowMs: number, maxAgeSeconds: number): HealthCheck {
  const name = 'streamer-heartbeats';
  const known = heartbeatTimesMs.filter((time): time is number => time !== undefined);
  if (heartbeatTimesMs.length === 0) return { name, status: 'warn', detail: 'pipeline runs no streamer' };
  if (known.length === 0) return { name, status: 'ok', detail: `${heartbeatTimesMs.length} streamer(s) starting`, value: 0 };
  const oldestAgeSeconds = Math.max(0, Math.round((nowMs - Math.min(...known)) / 1000));
  const status = oldestAgeSeconds > maxAgeSeconds ? 'fail' : 'ok';
  return {
    name,
    status,
    detail: `${heartbeatTimesMs.length} streamer(s), oldest heartbeat ${oldestAgeSeconds}s ago (limit ${maxAgeSeconds}s)`,
    value: oldestAgeSeconds,
  };
}

/** Consumer lag summed over the partitions the streamers last reported. */
export function lagCheck(status: PipelineStatus, warnAboveMessages = LAG_WARNING_MESSAGES): HealthCheck {
  const name = 'kafka-lag';
  const lags = status.streamers.flatMap((streamer) => streamer.partitions ?? []).filter((partition) => partition.lag !== undefined);
  if (lags.length === 0) return { name, status: 'unknown', detail: 'no streamer has reported lag yet' };
  const total = lags.reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
  return {
    name,
    status: total > warnAboveMessages ? 'warn' : 'ok',
    detail: `${total} messages behind over ${lags.length} partition(s)`,
    value: total,
  };
}
