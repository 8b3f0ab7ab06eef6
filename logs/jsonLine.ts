// Reads one JSON access-log object in the generator's field names or in Elastic Common Schema
// names (nested objects or dotted keys) into a RawRequest for validation.
import type { RawRequest } from './validate.js';
import { rejection, type Rejection } from './reasons.js';

export type ParsedObject = { ok: true; request: RawRequest } | { ok: false; rejection: Rejection };

/** Candidate names per field, generator names first. */
const FIELDS = {
  timestamp: ['timestamp', '@timestamp'],
  clientIp: ['client_ip', 'source.ip', 'client.ip'],
  method: ['method', 'http.request.method'],
  path: ['path', 'url.path', 'url.original'],
  query: ['url.query'],
  status: ['status', 'http.response.status_code'],
  responseTimeMs: ['response_time_ms'],
  durationNs: ['event.duration'],
  bytes: ['bytes', 'http.response.body.bytes'],
  referrer: ['referrer', 'http.request.referrer'],
  userAgent: ['user_agent.original', 'user_agent'],
  label: ['label'],
} as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

export function parseJsonObject(value: unknown): ParsedObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object', `JSON ${Array.isArray(value) ? 'array' : typeof value} is not an object`);
  }
  const object = value as Record<string, unknown>;
  const missing = (['timestamp', 'clientIp', 'method', 'path', 'status'] as const).filter(
    (field) => lookup(object, FIELDS[field]) === undefined,
  );
  if (missing.length) return fail('missing_field', `missing ${missing.map((field) => FIELDS[field][0]).join(', ')}`);

  const timestamp = lookup(object, FIELDS.timestamp);
  const timestampMs = toTimestampMs(timestamp);
  if (timestampMs === undefined) return fail('bad_timestamp', `timestamp ${short(timestamp)} is not an ISO-8601 date or epoch milliseconds`);

  const text = readStrings(object, ['clientIp', 'method', 'path']);
  if ('problem' in text) return { ok: false, rejection: text.problem };
  const optionalText = readStrings(object, ['referrer', 'userAgent', 'label', 'query'], true);
  if ('problem' in optionalText) return { ok: false, rejection: optionalText.problem };

  const status = lookup(object, FIELDS.status);
  if (typeof status !== 'number') return fail('wrong_type', `status ${short(status)} is not a number`);
  const bytes = lookup(object, FIELDS.bytes) ?? 0;
  if (typeof bytes !== 'number') return fail('wrong_type', `bytes ${short(bytes)} is not a number`);

  let responseTimeMs: number | null = null;
  const responseTime = lookup(object, FIELDS.responseTimeMs);
  const durationNs = lookup(object, FIELDS.durationNs);
  if (responseTime !== undefined && responseTime !== null) {
    if (typeof responseTime !== 'number') return fail('wrong_type', `response_time_ms ${short(responseTime)} is not a number`);
    responseTimeMs = responseTime;
  } else if (durationNs !== undefined && durationNs !== null) {
    if (typeof durationNs !== 'number') return fail('wrong_type', `event.duration ${short(durationNs)} is not a number`);
    responseTimeMs = durationNs / 1e6;
  }

  const path = text.values.path!;
  const query = optionalText.values.query;
  return {
    ok: true,
    request: {
      timestampMs,
      clientIp: text.values.clientIp!,
      method: text.values.method!.toUpperCase(),
      target: query && !path.includes('?') ? `${path}?${query}` : path,
      status,
      responseTimeMs,
      responseBytes: bytes,
      referrer: optionalText.values.referrer ?? null,
      userAgent: optionalText.values.userAgent ?? null,
      label: optionalText.values.label ?? null,
    },
  };
}

type TextField = 'clientIp' | 'method' | 'path' | 'referrer' | 'userAgent' | 'label' | 'query';

function readStrings(
  object: Record<string, unknown>,
  fields: TextField[],
  optional = false,
): { values: Partial<Record<TextField, string>> } | { problem: Rejection } {
  const values: Partial<Record<TextField, string>> = {};
  for (const field of fields) {
    const value = lookup(object, FIELDS[field]);
    if (value === undefined || (optional && value === null)) continue;
    if (typeof value !== 'string') {
      return { problem: rejection('wrong_type', `${FIELDS[field][0]} ${short(value)} is not a string`) };
    }
    values[field] = value;
  }
  return { values };
}

/** First present name: a top-level key (also dotted, as some shippers flatten ECS), else a nested path. */
function lookup(object: Record<string, unknown>, names: readonly string[]): unknown {
  for (const name of names) {
    if (name in object) return object[name];
    if (!name.includes('.')) continue;
    let current: unknown = object;
    for (const part of name.split('.')) {
      if (typeof current !== 'object' || current === null || !(part in current)) {
        current = undefined;
        break;
      }
      current = (current as Record<string, unknown>)[part];
    }
    if (current !== undefined) return current;
  }
  return undefined;
}

function toTimestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
  const parsed = Date.parse(value.includes('T') ? value : value.replace(' ', 'T'));
  return Number.isNaN(parsed) ? undefined : parsed;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(code: Rejection['code'], message: string): ParsedObject {
  return { ok: false, rejection: rejection(code, message) };
}
