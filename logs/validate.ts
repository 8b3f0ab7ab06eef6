// Checks a decoded request for absurd values and builds the canonical LogEvent.
// Shared by the JSON and the combined-format decoders so both reject the same things the same way.
import { isIP } from 'node:net';
import { pathTemplate } from './pathTemplate.js';
import type { LogEvent } from './record.js';
import { rejection, type Rejection } from './reasons.js';

/** Nothing before the web's first years of mass use is a real access log. */
export const EARLIEST_TIMESTAMP_MS = Date.UTC(1995, 0, 1);
/** Clocks drift and time zones get mislabelled; a day ahead is the furthest future we accept. */
export const MAX_FUTURE_SKEW_MS = 24 * 60 * 60 * 1000;
/** No request takes a day; such a value is a unit mistake. */
export const MAX_RESPONSE_TIME_MS = 24 * 60 * 60 * 1000;
const MAX_PATH_CHARACTERS = 8192;
const METHOD = /^[A-Z][A-Z_-]{0,23}$/;

/** A request as a decoder read it: a LogEvent whose path, query and template are not split out yet. */
export interface RawRequest extends Omit<LogEvent, 'path' | 'query' | 'pathTemplate'> {
  /** Request target as sent: a path with query, or an absolute URL from a proxy request. */
  target: string;
}

export type Validated = { ok: true; event: LogEvent } | { ok: false; rejection: Rejection };

/**
 * How far event times may lie from the ingest time (the streaming path), so one producer with a
 * wrong clock or unit cannot create unbounded hourly partitions and daily indices. null: no bound
 * on that side beyond the sanity bounds above.
 */
export interface EventTimeWindow {
  maxAgeMs: number | null;
  maxAheadMs: number | null;
}

export const NO_WINDOW: EventTimeWindow = { maxAgeMs: null, maxAheadMs: null };

export function validateRequest(raw: RawRequest, nowMs: number, window: EventTimeWindow = NO_WINDOW): Validated {
  const problem = findProblem(raw, nowMs, window);
  if (problem) return { ok: false, rejection: problem };
  const { path, query } = splitTarget(raw.target);
  return {
    ok: true,
    event: {
      timestampMs: raw.timestampMs,
      clientIp: raw.clientIp,
      method: raw.method,
      path,
      query,
      pathTemplate: pathTemplate(path),
      status: raw.status,
      responseTimeMs: raw.responseTimeMs,
      responseBytes: raw.responseBytes,
      referrer: emptyToNull(raw.referrer),
      userAgent: emptyToNull(raw.userAgent),
      label: raw.label,
    },
  };
}

function findProblem(raw: RawRequest, nowMs: number, window: EventTimeWindow): Rejection | undefined {
  if (!Number.isFinite(raw.timestampMs)) return rejection('bad_timestamp', 'timestamp is not a valid date');
  if (window.maxAgeMs !== null && raw.timestampMs < nowMs - window.maxAgeMs) {
    return rejection(
      'timestamp_out_of_range',
      `timestamp ${isoOrRaw(raw.timestampMs)} is more than ${duration(window.maxAgeMs)} before the ingest time ${isoOrRaw(nowMs)} (decode.max_event_age_hours)`,
    );
  }
  if (window.maxAheadMs !== null && raw.timestampMs > nowMs + window.maxAheadMs) {
    return rejection(
      'timestamp_out_of_range',
      `timestamp ${isoOrRaw(raw.timestampMs)} is more than ${duration(window.maxAheadMs)} after the ingest time ${isoOrRaw(nowMs)} (decode.max_event_ahead_minutes)`,
    );
  }
  if (raw.timestampMs < EARLIEST_TIMESTAMP_MS) {
    return rejection('timestamp_out_of_range', `timestamp ${isoOrRaw(raw.timestampMs)} is before 1995`);
  }
  if (raw.timestampMs > nowMs + MAX_FUTURE_SKEW_MS) {
    return rejection('timestamp_out_of_range', `timestamp ${isoOrRaw(raw.timestampMs)} is more than a day in the future`);
  }
  if (!isIpAddress(raw.clientIp)) return rejection('bad_ip', `client ip ${quote(raw.clientIp)} is not an IPv4 or IPv6 address`);
  if (!METHOD.test(raw.method)) return rejection('bad_method', `method ${quote(raw.method)} is not an HTTP method`);
  if (raw.target.length === 0 || raw.target.length > MAX_PATH_CHARACTERS) {
    return rejection('bad_path', `path is empty or longer than ${MAX_PATH_CHARACTERS} characters`);
  }
  if (!raw.target.startsWith('/') && raw.target !== '*' && !/^https?:\/\//i.test(raw.target)) {
    return rejection('bad_path', `path ${quote(raw.target)} does not start with /`);
  }
  if (!Number.isInteger(raw.status) || raw.status < 100 || raw.status > 599) {
    return rejection('status_out_of_range', `status ${raw.status} is outside 100..599`);
  }
  if (!Number.isSafeInteger(raw.responseBytes)) return rejection('wrong_type', `bytes ${raw.responseBytes} is not a whole number`);
  if (raw.responseBytes < 0) return rejection('negative_bytes', `bytes ${raw.responseBytes} is negative`);
  if (raw.responseTimeMs !== null) {
    if (!Number.isFinite(raw.responseTimeMs) || raw.responseTimeMs < 0 || raw.responseTimeMs > MAX_RESPONSE_TIME_MS) {
      return rejection('bad_response_time', `response time ${raw.responseTimeMs} ms is negative or longer than a day`);
    }
  }
  return undefined;
}

/** An IPv4 or IPv6 address as net.isIP reads it; the common dotted quad is checked without its regular expression. */
export function isIpAddress(text: string): boolean {
  return isDottedQuad(text) || isIP(text) !== 0;
}

/** Four decimal octets 0-255 without leading zeros (what isIP accepts as IPv4); false means "ask isIP". */
function isDottedQuad(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let index = 0; index <= text.length; index += 1) {
    const code = index < text.length ? text.charCodeAt(index) : 46; // "." ends the last octet
    if (code === 46) {
      if (digits === 0 || value > 255) return false;
      parts += 1;
      value = 0;
      digits = 0;
    } else {
      if (code < 48 || code > 57 || (digits === 1 && value === 0)) return false;
      value = value * 10 + code - 48;
      digits += 1;
    }
  }
  return parts === 4;
}

/** Splits "/a/b?x=1" into path and query; absolute proxy URLs keep only their path. */
export function splitTarget(target: string): { path: string; query: string | null } {
  let rest = target;
  const absolute = rest.charCodeAt(0) === 47 ? null : /^https?:\/\/[^/?#]*/i.exec(rest); // "/": the usual origin-form target
  if (absolute) rest = rest.slice(absolute[0].length) || '/';
  const fragmentAt = rest.indexOf('#');
  if (fragmentAt >= 0) rest = rest.slice(0, fragmentAt);
  const queryAt = rest.indexOf('?');
  if (queryAt < 0) return { path: rest, query: null };
  const query = rest.slice(queryAt + 1);
  return { path: rest.slice(0, queryAt) || '/', query: query.length ? query : null };
}

function emptyToNull(value: string | null): string | null {
  return value === null || value === '' || value === '-' ? null : value;
}

function duration(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${+minutes.toFixed(2)} minutes`;
  const hours = minutes / 60;
  return hours < 48 ? `${+hours.toFixed(2)} hours` : `${+(hours / 24).toFixed(2)} days`;
}

function isoOrRaw(timestampMs: number): string {
  const date = new Date(timestampMs);
  return Number.isNaN(date.getTime()) ? String(timestampMs) : date.toISOString();
}

/** Quotes a value for an error message, cut short so a rejection never carries a whole payload. */
export function quote(value: string): string {
  const short = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(short);
}
