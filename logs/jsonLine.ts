// Reads one JSON access-log object into a RawRequest for validation, through the field mappings in
// effect (logs/mappings.ts): the first mapping whose required fields are all present reads it.
import { parseCombinedDate, parseRequestLine } from './combined.js';
import type { CanonicalField, CompiledJsonMapping, CompiledSource } from './mappings.js';
import { rejection, type Rejection } from './reasons.js';
import type { WallClockReader } from './timeZone.js';
import type { RawRequest } from './validate.js';

export type ParsedObject = { ok: true; request: RawRequest } | { ok: false; rejection: Rejection };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;
const ZONE_SUFFIX = /(Z|[+-]\d{2}(:?\d{2})?)$/i;
const HOURS_ONLY_OFFSET = /T.*[+-]\d{2}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;

/** A wrong-typed field, reported with the source name it came from. */
class WrongType {
  constructor(readonly rejection: Rejection) {}
}

/** `inEffect` names every mapping in effect (combined ones too), for the missing-field reason. */
export function parseJsonObject(
  value: unknown,
  mappings: readonly CompiledJsonMapping[],
  zone: WallClockReader,
  inEffect: readonly string[] = mappings.map((mapping) => mapping.name),
): ParsedObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not_an_object', `JSON ${Array.isArray(value) ? 'array' : typeof value} is not an object`);
  }
  const object = value as Record<string, unknown>;
  let closest: { mapping: CompiledJsonMapping; missing: CanonicalField[] } | undefined;
  for (const mapping of mappings) {
    const { sources } = mapping;
    // Values and their sources in locals: this runs for every message, and objects per field cost.
    const timestamp = lookup(object, sources.timestamp);
    const timestampSource = foundSource;
    const clientIp = lookup(object, sources.client_ip);
    const clientIpSource = foundSource;
    const status = lookup(object, sources.status);
    const statusSource = foundSource;
    let method = lookup(object, sources.method);
    let methodSource = foundSource;
    let path = lookup(object, sources.path);
    let pathSource = foundSource;
    if (mapping.readsRequestLine && (method === undefined || path === undefined)) {
      const request = lookup(object, sources.request);
      if (request !== undefined) {
        const line = typeof request === 'string' ? parseRequestLine(request) : undefined;
        if (!line) return fail('bad_request_line', `${foundSource.name} ${short(request)} is not "METHOD /path PROTOCOL"`);
        if (method === undefined) [method, methodSource] = [line.method, foundSource];
        if (path === undefined) [path, pathSource] = [line.target, foundSource];
      }
    }
    if (timestamp === undefined || clientIp === undefined || method === undefined || path === undefined || status === undefined) {
      const missing: CanonicalField[] = [];
      if (timestamp === undefined) missing.push('timestamp');
      if (clientIp === undefined) missing.push('client_ip');
      if (method === undefined) missing.push('method');
      if (path === undefined) missing.push('path');
      if (status === undefined) missing.push('status');
      if (closest === undefined || missing.length < closest.missing.length) closest = { mapping, missing };
      continue;
    }
    try {
      const timestampMs = toTimestampMs(timestamp, timestampSource, zone);
      if (timestampMs === undefined) {
        return fail(
          'bad_timestamp',
          `${timestampSource.name} ${short(timestamp)} is not an ISO-8601 date, a [dd/Mon/yyyy:HH:mm:ss +zzzz] date or an epoch number`,
        );
      }
      const target = requiredString(path, pathSource);
      const query = optionalString(object, sources.query);
      const responseTime = optionalNumber(object, sources.response_time);
      const responseTimeMs = responseTime === null ? null : responseTime * foundSource.toMs;
      return {
        ok: true,
        request: {
          timestampMs,
          clientIp: requiredString(clientIp, clientIpSource),
          method: requiredString(method, methodSource).toUpperCase(),
          target: query && !target.includes('?') ? `${target}?${query}` : target,
          status: requiredNumber(status, statusSource, INTEGER),
          responseTimeMs,
          responseBytes: optionalNumber(object, sources.bytes) ?? 0,
          referrer: optionalString(object, sources.referrer),
          userAgent: optionalString(object, sources.user_agent),
          label: optionalString(object, sources.label),
        },
      };
    } catch (error) {
      if (error instanceof WrongType) return { ok: false, rejection: error.rejection };
      throw error;
    }
  }
  return fail('missing_field', missingMessage(closest, inEffect));
}

function requiredString(value: unknown, source: CompiledSource): string {
  if (typeof value !== 'string') throw wrongType(value, source, 'a string');
  return value;
}

/** An optional text field: absent or null is null. */
function optionalString(object: Record<string, unknown>, sources: readonly CompiledSource[]): string | null {
  const value = lookup(object, sources);
  return value === undefined || value === null ? null : requiredString(value, foundSource);
}

function requiredNumber(value: unknown, source: CompiledSource, pattern: RegExp): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && source.acceptString && pattern.test(value)) return Number(value);
  if (typeof value === 'string' && !source.acceptString && DECIMAL.test(value)) {
    throw new WrongType(
      rejection('wrong_type', `${source.name} ${short(value)} is a string, not a number (the mapping does not set accept_string for it)`),
    );
  }
  throw wrongType(value, source, 'a number');
}

/**
 * An optional number: absent or null is null; with accept_string, "" and "-" (nothing logged) are
 * null too. Leaves foundSource at the source it came from.
 */
function optionalNumber(object: Record<string, unknown>, sources: readonly CompiledSource[]): number | null {
  const value = lookup(object, sources);
  if (value === undefined || value === null) return null;
  if (foundSource.acceptString && (value === '' || value === '-')) return null;
  return requiredNumber(value, foundSource, DECIMAL);
}

function wrongType(value: unknown, source: CompiledSource, expected: string): WrongType {
  return new WrongType(rejection('wrong_type', `${source.name} ${short(value)} is not ${expected}`));
}

/** The source of the value the last lookup found (a module variable: no object per lookup). */
let foundSource: CompiledSource = { name: '', parts: null, toMs: 1, acceptString: false };

/**
 * First present source: a top-level key (also dotted, as some shippers flatten ECS), else a
 * nested path. JSON never holds undefined, so undefined means absent.
 */
function lookup(object: Record<string, unknown>, sources: readonly CompiledSource[]): unknown {
  for (const source of sources) {
    if (Object.hasOwn(object, source.name)) {
      foundSource = source;
      return object[source.name];
    }
    if (source.parts === null) continue;
    let current: unknown = object;
    for (const part of source.parts) {
      if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) {
        current = undefined;
        break;
      }
      current = (current as Record<string, unknown>)[part];
    }
    if (current !== undefined) {
      foundSource = source;
      return current;
    }
  }
  return undefined;
}

function missingMessage(
  closest: { mapping: CompiledJsonMapping; missing: CanonicalField[] } | undefined,
  inEffect: readonly string[],
): string {
  if (closest === undefined) return 'no JSON mapping is in effect';
  const { mapping, missing } = closest;
  const named = missing.map((field) => {
    const names = mapping.sources[field].map((source) => source.name);
    if ((field === 'method' || field === 'path') && mapping.readsRequestLine)
      names.push(...mapping.sources.request.map((source) => source.name));
    return names.length === 1 && names[0] === field ? field : `${field} (${names.join(' or ')})`;
  });
  const others = inEffect.length > 1 ? `; mappings in effect: ${inEffect.join(', ')}` : '';
  return `missing ${named.join(', ')} for mapping ${mapping.name}${others}`;
}

/** The second of the last canonical timestamp parsed ("2026-11-28T15:13:22"), and its epoch ms. */
let cachedSecond = '';
let cachedSecondMs = 0;
const CANONICAL_LENGTH = 24; // 2026-11-28T15:13:22.123Z, as Date.toISOString writes it

function toTimestampMs(value: unknown, source: CompiledSource, zone: WallClockReader): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? epochMs(value, source) : undefined;
  if (typeof value !== 'string') return undefined;
  // Most messages of a batch share their second: then only the milliseconds need reading.
  if (value.length === CANONICAL_LENGTH && cachedSecond && value.startsWith(cachedSecond)) {
    const millis = canonicalMillis(value);
    if (millis >= 0) return cachedSecondMs + millis;
  }
  if (source.acceptString && DECIMAL.test(value)) return epochMs(Number(value), source);
  if (value.charCodeAt(2) === 47) return parseCombinedDate(value, zone); // "17/May/2015:10:05:03 +0000", Nginx $time_local
  if (!ISO_DATE.test(value)) return undefined;
  let text = value.charCodeAt(10) === 84 ? value : `${value.slice(0, 10)}T${value.slice(11)}`; // "T"
  if (HOURS_ONLY_OFFSET.test(text)) text = `${text}:00`; // PostgreSQL writes "+00"; Date.parse wants "+00:00"
  if (!ZONE_SUFFIX.test(text.slice(16))) {
    // No zone: read the wall clock in the configured zone, never in the server's (Date.parse would).
    const wallMs = Date.parse(`${text}Z`);
    return Number.isNaN(wallMs) ? undefined : zone(wallMs);
  }
  const parsed = Date.parse(text);
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

/** An epoch number in the source's unit, to whole milliseconds ("1700000000.123" s reads exactly). */
function epochMs(value: number, source: CompiledSource): number {
  return source.toMs === 1 ? value : Math.round(value * source.toMs);
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
