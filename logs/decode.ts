// Turns one raw message (a Kafka value or a line of a file) into a canonical LogEvent, or into a
// Rejection saying why not. Pure: the caller passes the clock and the size limit.
import { isUtf8 } from 'node:buffer';
import { looksLikeCombined, parseCombinedLine } from './combined.js';
import { parseJsonObject } from './jsonLine.js';
import type { LogEvent } from './record.js';
import { rejection, type Rejection } from './reasons.js';
import { validateRequest } from './validate.js';

export type { Rejection, RejectionCode } from './reasons.js';

export interface DecodeOptions {
  /** Larger messages are rejected as "oversize" before any parsing. */
  maxMessageBytes: number;
  /** Current time, epoch ms; timestamps more than a day after it are rejected. */
  nowMs: number;
}

export type DecodeResult = { ok: true; event: LogEvent } | { ok: false; rejection: Rejection };

export type LineFormat = 'json' | 'combined' | 'unknown';

/** Decodes a message as it came from Kafka: bytes that may be missing, too large or not UTF-8. */
export function decodeMessage(value: Uint8Array | null | undefined, options: DecodeOptions): DecodeResult {
  if (!value || value.length === 0) return { ok: false, rejection: rejection('empty', 'message has no value') };
  if (value.length > options.maxMessageBytes) {
    return {
      ok: false,
      rejection: rejection('oversize', `message of ${value.length} bytes is over the ${options.maxMessageBytes}-byte limit`),
    };
  }
  if (!isUtf8(value)) return { ok: false, rejection: rejection('invalid_utf8', 'message is not valid UTF-8') };
  // Kafka values are Buffers already; wrapping one again costs an allocation per message.
  const text = Buffer.isBuffer(value)
    ? value.toString('utf8')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return decodeLine(text, options.nowMs);
}

/** Decodes one text line: a JSON object or an Apache/Nginx combined log line. */
export function decodeLine(line: string, nowMs: number): DecodeResult {
  const text = line.trim();
  if (text.length === 0) return { ok: false, rejection: rejection('empty', 'line is empty') };
  const format = detectFormat(text);
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, rejection: rejection('unparseable', 'invalid JSON') };
    }
    const parsed = parseJsonObject(value);
    return parsed.ok ? validateRequest(parsed.request, nowMs) : parsed;
  }
  if (format === 'combined') {
    const parsed = parseCombinedLine(text);
    return parsed.ok ? validateRequest(parsed.request, nowMs) : parsed;
  }
  return { ok: false, rejection: rejection('unparseable', 'not JSON and not an Apache/Nginx combined log line') };
}

export function detectFormat(text: string): LineFormat {
  const first = text[0];
  if (first === '{' || first === '[' || first === '"') return 'json';
  if (looksLikeCombined(text)) return 'combined';
  return 'unknown';
}
