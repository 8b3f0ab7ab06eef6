// Reads one JSON access-log object in the generator's field names or in Elastic Common Schema
// names (nested objects or dotted keys) into a RawRequest for validation.
import type { RawRequest } from './validate.js';
import { rejection, type Rejection } from './reasons.js';

export type ParsedObject = { ok: true; request: RawRequest } | { ok: false; rejection: Rejection };

/** A field name to look up: top level (also dotted, as some shippers flatten ECS), else a nested path. */
interface Candidate {
  name: string;
  /** The name's parts when it is dotted, for the nested lookup; split once here, not per message. */
  parts: readonly string[] | null;
}

const candidates = (...names: string[]): readonly Candidate[] =>
  names.map((name) => ({ name, parts: name.includes('.') ? name.split('.') : null }));

/** Candidate names per field, generator names first. */
const FIELDS = {
  timestamp: candidates('timestamp', '@timestamp'),
  clientIp: candidates('client_ip', 'source.ip', 'client.ip'),
  method: candidates('method', 'http.request.method'),
  path: candidates('path', 'url.path', 'url.original'),
  query: candidates('url.query'),
  status: candidates('status', 'http.response.status_code'),
  responseTimeMs: candidates('response_time_ms'),
  durationNs: candidates('event.duration'),
  bytes: candidates('bytes', 'http.response.body.bytes'),
  referrer: candidates('referrer', 'http.request.referrer'),
  userAgent: candidates('user_agent.original', 'user_agent'),
  label: candidates('label'),
} as const;

type Field = keyof typeof FIELDS;
const REQUIRED: readonly Field[] = ['timestamp', 'clientIp', 'method', 'path', 'status'];

const ISO_DATE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A wrong-typed field, reported as the first of its candidate names. */
class WrongType {
  constructor(readonly rejection: Rejection) {}
}

export function parseJsonObject(value: unknown): ParsedObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object', `JSON ${Array.isArray(value) ? 'array' : typeof value} is not an object`);
  }
  const object = value as Record<string, unknown>;
  const timestamp = lookup(object, FIELDS.timestamp);
  const clientIp = lookup(object, FIELDS.clientIp);
  const method = lookup(object, FIELDS.method);
  const path = lookup(object, FIELDS.path);
  const status = lookup(object, FIELDS.status);
  if (timestamp === undefined || clientIp === undefined || method === undefined || path === undefined || status === undefined) {
    const present = { timestamp, clientIp, method, path, status } as Record<Field, unknown>;
    const missing = REQUIRED.filter((field) => present[field] === undefined);
    return fail('missing_field', `missing ${missing.map((field) => FIELDS[field][0]!.name).join(', ')}`);
  }

  const timestampMs = toTimestampMs(timestamp);
  if (timestampMs === undefined)
    return fail('bad_timestamp', `timestamp ${short(timestamp)} is not an ISO-8601 date or epoch milliseconds`);

  let strings: {
    clientIp: string;
    method: string;
    path: string;
    referrer: string | null;
    userAgent: string | null;
    label: string | null;
    query: string | null;
  };
  try {
    strings = {
      clientIp: requiredString(clientIp, 'clientIp'),
      method: requiredString(method, 'method'),
      path: requiredString(path, 'path'),
      referrer: optionalString(object, 'referrer'),
      userAgent: optionalString(object, 'userAgent'),
      label: optionalString(object, 'label'),
      query: optionalString(object, 'query'),
    };
  } catch (error) {
    if (error instanceof WrongType) return { ok: false, rejection: error.rejection };
    throw error;
  }

  if (typeof status !== 'number') return fail('wrong_type', `status ${short(status)} is not a number`);
  const bytes = lookup(object, FIELDS.bytes) ?? 0;
  if (typeof bytes !== 'number') return fail('wrong_type', `bytes ${short(bytes)} is not a number`);

  let responseTimeMs: number | null = null;
  const responseTime = lookup(object, FIELDS.responseTimeMs);
  if (responseTime !== undefined && responseTime !== null) {
    if (typeof responseTime !== 'number') return fail('wrong_type', `response_time_ms ${short(responseTime)} is not a number`);
    responseTimeMs = responseTime;
  } else {
    const durationNs = lookup(object, FIELDS.durationNs);
    if (durationNs !== undefined && durationNs !== null) {
      if (typeof durationNs !== 'number') return fail('wrong_type', `event.duration ${short(durationNs)} is not a number`);
      responseTimeMs = durationNs / 1e6;
    }
  }

  const { query } = strings;
  return {
    ok: true,
    request: {
      timestampMs,
      clientIp: strings.clientIp,
      method: strings.method.toUpperCase(),
      target: query && !strings.path.includes('?') ? `${strings.path}?${query}` : strings.path,
      status,
      responseTimeMs,
      responseBytes: bytes,
      referrer: strings.referrer,
      userAgent: strings.userAgent,
      label: strings.label,
    },
  };
}

function requiredString(value: unknown, field: Field): string {
  if (typeof value !== 'string') throw new WrongType(rejection('wrong_type', `${FIELDS[field][0]!.name} ${short(value)} is not a string`));
  return value;
}

/** An optional text field: absent or null is null. */
function optionalString(object: Record<string, unknown>, field: Field): string | null {
  const value = lookup(object, FIELDS[field]);
  return value === undefined || value === null ? null : requiredString(value, field);
}

/**
 * First present candidate: a top-level key (also dotted, as some shippers flatten ECS), else a
 * nested path. JSON never holds undefined, so undefined means absent.
 */
function lookup(object: Record<string, unknown>, names: readonly Candidate[]): unknown {
  for (const candidate of names) {
    if (Object.hasOwn(object, candidate.name)) return object[candidate.name];
    if (candidate.parts === null) continue;
    let current: unknown = object;
    for (const part of candidate.parts) {
      if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) {
        current = undefined;
        break;
      }
      current = (current as Record<string, unknown>)[part];
    }
    if (current !== undefined) return current;
  }
  return undefined;
}

/** The second of the last canonical timestamp parsed ("2026-11-28T15:13:22"), and its epoch ms. */
let cachedSecond = '';
let cachedSecondMs = 0;
const CANONICAL_LENGTH = 24; // 2026-11-28T15:13:22.123Z, as Date.toISOString writes it

function toTimestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  // Most messages of a batch share their second: then only the milliseconds need reading.
  if (value.length === CANONICAL_LENGTH && cachedSecond && value.startsWith(cachedSecond)) {
    const millis = canonicalMillis(value);
    if (millis >= 0) return cachedSecondMs + millis;
  }
  if (!ISO_DATE.test(value)) return undefined;
  const parsed = Date.parse(value.includes('T') ? value : value.replace(' ', 'T'));
  if (Number.isNaN(parsed)) return undefined;
  if (value.length === CANONICAL_LENGTH && value[10] === 'T') {
    const millis = canonicalMillis(value);
    if (millis >= 0) {
      cachedSecond = value.slice(0, 19);
      cachedSecondMs = parsed - millis;
    }
  }
  return parsed;
}

/** The milliseconds of a "….sssZ" timestamp, or -1 when it does not end that way. */
function canonicalMillis(value: string): number {
  if (value.charCodeAt(19) !== 46 || value.charCodeAt(23) !== 90) return -1; // "." and "Z"
  let millis = 0;
  for (let index = 20; index < 23; index += 1) {
    const digit = value.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    millis = millis * 10 + digit;
  }
  return millis;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(code: Rejection['code'], message: string): ParsedObject {
  return { ok: false, rejection: rejection(code, message) };
}
