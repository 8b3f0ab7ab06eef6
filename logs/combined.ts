// Parses Apache/Nginx "combined" (and "common") access-log lines, optionally followed by more
// fields: a response time, bare or as rt=VALUE / request_time=VALUE (Nginx $request_time is seconds
// with a dot, "0.123"; Apache %D is integer microseconds, %T integer seconds, %{ms}T milliseconds),
// and quoted fields such as Nginx's "$http_x_forwarded_for", which are skipped.
import type { RawRequest } from './validate.js';
import { quote } from './validate.js';
import { rejection, type Rejection } from './reasons.js';
import type { WallClockReader } from './timeZone.js';

const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const COMBINED = new RegExp(`^(\\S+) (\\S+) (\\S+) \\[([^\\]]+)\\] ${QUOTED} (\\S+) (\\S+)(?: ${QUOTED} ${QUOTED})?(.*)$`);
/** One field after the user agent: a quoted string, key=value (value maybe quoted), or a bare token. */
const TAIL_FIELD = /\s*(?:"(?:[^"\\]|\\.)*"|([A-Za-z_]+)=("(?:[^"\\]|\\.)*"|\S*)|([^\s"]\S*))/y;
const RESPONSE_TIME_KEYS = new Set(['rt', 'request_time', 'response_time']);
const NUMBER = /^\d+(\.\d+)?$/;
const DATE = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?: ([+-])(\d{2})(\d{2}))?$/;
const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

export type ParsedLine = { ok: true; request: RawRequest } | { ok: false; rejection: Rejection };

/** Cheap test used to pick the decoder: combined lines start with a host and carry a [date]. */
export function looksLikeCombined(line: string): boolean {
  return / \[[^\]]+\] "/.test(line.slice(0, 200));
}

export interface CombinedOptions {
  /** Multiplier to milliseconds of an appended response time; null = by its form (dot: seconds, integer: microseconds). */
  responseTimeToMs: number | null;
  /** Reads a date written without a zone. */
  zone?: WallClockReader;
}

const AUTO: CombinedOptions = { responseTimeToMs: null };

export function parseCombinedLine(line: string, options: CombinedOptions = AUTO): ParsedLine {
  const match = COMBINED.exec(line);
  if (!match) return fail('unparseable', 'not JSON and not an Apache/Nginx combined log line');
  const [, host, , , dateText, requestLine, statusText, bytesText, referrer, userAgent, tail] = match;
  const timestampMs = parseCombinedDate(dateText!, options.zone);
  if (timestampMs === undefined) return fail('bad_timestamp', `date ${quote(dateText!)} is not [dd/Mon/yyyy:HH:mm:ss +zzzz]`);
  const request = parseRequestLine(unescapeField(requestLine!));
  if (!request) return fail('bad_request_line', `request ${quote(requestLine!)} is not "METHOD /path PROTOCOL"`);
  if (!/^-?\d+$/.test(statusText!)) return fail('wrong_type', `status ${quote(statusText!)} is not a number`);
  if (bytesText !== '-' && !/^-?\d+$/.test(bytesText!)) return fail('wrong_type', `bytes ${quote(bytesText!)} is not a number`);
  let responseTimeMs: number | null = null;
  const responseTimeText = tail ? findResponseTime(tail) : undefined;
  if (responseTimeText === null) return fail('unparseable', 'not JSON and not an Apache/Nginx combined log line');
  if (responseTimeText !== undefined && responseTimeText !== '-') {
    const parsedMs = parseResponseTime(responseTimeText, options.responseTimeToMs);
    if (parsedMs === undefined) return fail('wrong_type', `response time ${quote(responseTimeText)} is not a number`);
    responseTimeMs = parsedMs;
  }
  return {
    ok: true,
    request: {
      timestampMs,
      clientIp: host!,
      method: request.method,
      target: request.target,
      status: Number(statusText),
      responseTimeMs,
      responseBytes: bytesText === '-' ? 0 : Number(bytesText),
      referrer: referrer === undefined ? null : unescapeField(referrer),
      userAgent: userAgent === undefined ? null : unescapeField(userAgent),
      label: null,
    },
  };
}

/**
 * The response time among the fields after the user agent: the value of rt=, request_time= or
 * response_time=, else the first bare number ("-" when the server logged none); null when the
 * fields do not read as fields (an unclosed quote: a line cut off).
 */
function findResponseTime(tail: string): string | undefined | null {
  let bare: string | undefined;
  TAIL_FIELD.lastIndex = 0;
  while (TAIL_FIELD.lastIndex < tail.length) {
    const at = TAIL_FIELD.lastIndex;
    const field = TAIL_FIELD.exec(tail);
    if (!field || TAIL_FIELD.lastIndex === at) return tail.slice(at).trim() === '' ? bare : null;
    const [, key, value, token] = field;
    if (key !== undefined && RESPONSE_TIME_KEYS.has(key)) return value!.startsWith('"') ? value!.slice(1, -1) : value;
    if (token !== undefined && bare === undefined && (token === '-' || NUMBER.test(token))) bare = token;
  }
  return bare;
}

/** "17/May/2015:10:05:03 +0000" -> epoch ms; a date without offset is read in `zone` (default UTC). */
export function parseCombinedDate(text: string, zone?: WallClockReader): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const [, day, monthName, year, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
  const month = MONTHS[monthName!.toLowerCase()];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
  const date = new Date(utc);
  if (date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  if (!sign) return zone ? zone(utc) : utc;
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return utc - offsetMs;
}

/** "GET /a?b=1 HTTP/1.1" -> method and target; undefined when it is not a request line. */
export function parseRequestLine(text: string): { method: string; target: string } | undefined {
  const parts = text.split(' ');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [method, target, protocol] = parts;
  if (!method || !target) return undefined;
  if (protocol !== undefined && !/^HTTP\/\d(\.\d)?$/i.test(protocol)) return undefined;
  return { method, target };
}

function parseResponseTime(text: string, toMs: number | null): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  if (toMs !== null) return Number(text) * toMs;
  // A dot means Nginx seconds; a whole number means Apache %D microseconds.
  return text.includes('.') ? Number(text) * 1000 : Number(text) / 1000;
}

function unescapeField(text: string): string {
  return text.includes('\\') ? text.replace(/\\(.)/g, '$1') : text;
}

function fail(code: Rejection['code'], message: string): ParsedLine {
  return { ok: false, rejection: rejection(code, message) };
}
