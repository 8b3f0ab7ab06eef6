// Turns one raw message (a Kafka value or a line of a file) into a canonical LogEvent, or into a
// Rejection saying why not. Pure: the caller passes the clock, the size limit and the decoder
// (mappings, time zone, event-time window; logs/decoder.ts).
import { isAscii, isUtf8 } from 'node:buffer';
import { looksLikeCombined, parseCombinedLine } from './combined.js';
import { DEFAULT_FILE_DECODER, DEFAULT_STREAM_DECODER, type Decoder } from './decoder.js';
import { parseJsonObject } from './jsonLine.js';
import type { LogEvent } from './record.js';
import { rejection, type Rejection } from './reasons.js';
import { validateRequest } from './validate.js';

export type { Rejection, RejectionCode } from './reasons.js';
export type { Decoder } from './decoder.js';

export interface DecodeOptions {
  /** Larger messages are rejected as "oversize" before any parsing. */
  maxMessageBytes: number;
  /** Ingest time, epoch ms: the decoder's event-time window is around it. */
  nowMs: number;
  /** Mappings, time zone and window (createDecoder); default: the default mappings, UTC, the default window. */
  decoder?: Decoder;
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
  // Kafka values are Buffers already; wrapping one again costs an allocation per message.
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // Nearly every access log is ASCII: then checking it and copying it as one-byte text is cheaper
  // than validating and decoding UTF-8 (about 80 ns a message).
  let text: string;
  if (isAscii(bytes)) text = bytes.toString('latin1');
  else if (isUtf8(bytes)) text = bytes.toString('utf8');
  else return { ok: false, rejection: rejection('invalid_utf8', 'message is not valid UTF-8') };
  return decodeLine(text, options.nowMs, options.decoder ?? DEFAULT_STREAM_DECODER);
}

/**
 * Decodes one text line: a JSON object or an Apache/Nginx combined log line. Without a decoder,
 * the default mappings in UTC and no event-time window (what files are read with).
 */
export function decodeLine(line: string, nowMs: number, decoder: Decoder = DEFAULT_FILE_DECODER): DecodeResult {
  const text = line.trim();
  if (text.length === 0) return { ok: false, rejection: rejection('empty', 'line is empty') };
  const format = detectFormat(text);
  if (format === 'json') {
    if (decoder.json.length === 0) {
      return {
        ok: false,
        rejection: rejection(
          'unparseable',
          `a JSON line, but the mappings in effect (${decoder.mappingNames.join(', ')}) read combined lines only`,
        ),
      };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, rejection: rejection('unparseable', 'invalid JSON') };
    }
    const parsed = parseJsonObject(value, decoder.json, decoder.zone, decoder.mappingNames);
    return parsed.ok ? validateRequest(parsed.request, nowMs, decoder.window) : parsed;
  }
  if (format === 'combined') {
    if (decoder.combined === null) {
      return {
        ok: false,
        rejection: rejection(
          'unparseable',
          `a combined log line, but the mappings in effect (${decoder.mappingNames.join(', ')}) read JSON only`,
        ),
      };
    }
    const parsed = parseCombinedLine(text, decoder.combinedOptions);
    return parsed.ok ? validateRequest(parsed.request, nowMs, decoder.window) : parsed;
  }
  return { ok: false, rejection: rejection('unparseable', 'not JSON and not an Apache/Nginx combined log line') };
}

export function detectFormat(text: string): LineFormat {
  const first = text[0];
  if (first === '{' || first === '[' || first === '"') return 'json';
  if (looksLikeCombined(text)) return 'combined';
  return 'unknown';
}
