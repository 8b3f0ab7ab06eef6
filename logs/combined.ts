// Parses Apache/Nginx "combined" (and "common") access-log lines, optionally followed by a
// response time: Apache %D (integer microseconds), Nginx $request_time (seconds with a dot),
// either bare or as rt=VALUE.
import type { RawRequest } from './validate.js';
import { quote } from './validate.js';
import { rejection, type Rejection } from './reasons.js';

const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const COMBINED = new RegExp(
  `^(\\S+) (\\S+) (\\S+) \\[([^\\]]+)\\] ${QUOTED} (\\S+) (\\S+)(?: ${QUOTED} ${QUOTED})?(?: +(?:rt=|request_time=)?(\\S+))?\\s*$`,
);
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

export function parseCombinedLine(line: string): ParsedLine {
  const match = COMBINED.exec(line);
  if (!match) return fail('unparseable', 'not JSON and not an Apache/Nginx combined log line');
  const [, host, , , dateText, requestLine, statusText, bytesText, referrer, userAgent, responseTimeText] = match;
  const timestampMs = parseCombinedDate(dateText!);
  if (timestampMs === undefined) return fail('bad_timestamp', `date ${quote(dateText!)} is not [dd/Mon/yyyy:HH:mm:ss +zzzz]`);
  const request = parseRequestLine(unescapeField(requestLine!));
  if (!request) return fail('bad_request_line', `request ${quote(requestLine!)} is not "METHOD /path PROTOCOL"`);
  if (!/^-?\d+$/.test(statusText!)) return fail('wrong_type', `status ${quote(statusText!)} is not a number`);
  if (bytesText !== '-' && !/^-?\d+$/.test(bytesText!)) return fail('wrong_type', `bytes ${quote(bytesText!)} is not a number`);
  let responseTimeMs: number | null = null;
  if (responseTimeText !== undefined && responseTimeText !== '-') {
    const parsedMs = parseResponseTime(responseTimeText);
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

/** "17/May/2015:10:05:03 +0000" -> epoch ms; undefined when it is not such a date. */
export function parseCombinedDate(text: string): number | undefined {
  const match = DATE.exec(text);
  if (!match) return undefined;
  const [, day, monthName, year, hour, minute, second, sign, offsetHours, offsetMinutes] = match;
  const month = MONTHS[monthName!.toLowerCase()];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
  const date = new Date(utc);
  if (date.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 : 0;
  return utc - offsetMs;
}

function parseRequestLine(text: string): { method: string; target: string } | undefined {
  const parts = text.split(' ');
  if (parts.length < 2 || parts.length > 3) return undefined;
  const [method, target, protocol] = parts;
  if (!method || !target) return undefined;
  if (protocol !== undefined && !/^HTTP\/\d(\.\d)?$/i.test(protocol)) return undefined;
  return { method, target };
}

function parseResponseTime(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  // A dot means Nginx seconds; a whole number means Apache %D microseconds.
  return text.includes('.') ? Number(text) * 1000 : Number(text) / 1000;
}

function unescapeField(text: string): string {
  return text.includes('\\') ? text.replace(/\\(.)/g, '$1') : text;
}

function fail(code: Rejection['code'], message: string): ParsedLine {
  return { ok: false, rejection: rejection(code, message) };
}
