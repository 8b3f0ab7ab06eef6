// The JSON-lines wire format of generated logs; logs/jsonLine.ts reads the same field names back.
import type { LogEvent } from '../logs/record.js';

export function toJsonLine(log: LogEvent): string {
  return JSON.stringify({
    timestamp: new Date(log.timestampMs).toISOString(),
    client_ip: log.clientIp,
    method: log.method,
    path: log.query === null ? log.path : `${log.path}?${log.query}`,
    status: log.status,
    response_time_ms: log.responseTimeMs,
    bytes: log.responseBytes,
    referrer: log.referrer,
    user_agent: log.userAgent,
    label: log.label,
  });
}
