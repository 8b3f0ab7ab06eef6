// Reads a file of JSON lines or Apache/Nginx combined lines into canonical events, with an
// optional label taken from another JSON field, counting the lines it could not use.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { decodeLine, type Decoder } from '../logs/decode.js';
import type { LogEvent } from '../logs/record.js';
import { TrainingDataError } from '../ml/errors.js';

export interface LogFileContents {
  events: LogEvent[];
  lines: number;
  /** Unusable lines per rejection code. */
  rejected: Record<string, number>;
}

export interface ReadLogFileOptions {
  /** JSON field holding the label (default "label"). */
  labelField?: string;
  /** Stop after this many events. */
  limit?: number;
  onProgress?: (lines: number) => void;
  /** Mappings and time zone of the file's lines (createDecoder); default: the default mappings, UTC. */
  decoder?: Decoder;
}

export async function readLogFile(file: string, options: ReadLogFileOptions = {}): Promise<LogFileContents> {
  try {
    await access(file);
  } catch {
    throw new TrainingDataError(
      `cannot read ${file}: no such file`,
      'create one with `logstream generate --training-data 10000 --out FILE`',
    );
  }
  const labelField = options.labelField ?? 'label';
  const nowMs = Date.now();
  const events: LogEvent[] = [];
  const rejected: Record<string, number> = {};
  let lines = 0;
  const reader = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of reader) {
    if (line.trim() === '') continue;
    lines += 1;
    const decoded = decodeLine(line, nowMs, options.decoder);
    if (!decoded.ok) {
      rejected[decoded.rejection.code] = (rejected[decoded.rejection.code] ?? 0) + 1;
      continue;
    }
    const event = decoded.event;
    if (labelField !== 'label') event.label = labelFrom(line, labelField);
    events.push(event);
    if (lines % 20_000 === 0) options.onProgress?.(lines);
    if (options.limit !== undefined && events.length >= options.limit) {
      reader.close();
      break;
    }
  }
  options.onProgress?.(lines);
  return { events, lines, rejected };
}

function labelFrom(line: string, field: string): string | null {
  if (!line.trimStart().startsWith('{')) return null;
  try {
    const value = (JSON.parse(line) as Record<string, unknown>)[field];
    return value === undefined || value === null ? null : String(value);
  } catch {
    return null;
  }
}
