// Reading the end of a service log: the last lines for error messages and `stack logs`, and following it.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

/** The last `count` lines of a text (a trailing newline does not count as an empty line). */
export function lastLines(text: string, count: number): string[] {
  if (count <= 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count);
}

function readRange(file: string, start: number, end: number): string {
  const length = end - start;
  if (length <= 0) return '';
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, start);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/** The last `count` lines of a file, reading at most the final maxBytes; [] when the file is missing. */
export function tailFile(file: string, count: number, maxBytes = 1024 * 1024): string[] {
  if (!existsSync(file)) return [];
  const size = statSync(file).size;
  return lastLines(readRange(file, Math.max(0, size - maxBytes), size), count);
}

/** Calls onText with everything appended to the file until the signal aborts. */
export async function followFile(file: string, onText: (text: string) => void, signal: AbortSignal, pollMs = 250): Promise<void> {
  let position = existsSync(file) ? statSync(file).size : 0;
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    if (!existsSync(file)) continue;
    const size = statSync(file).size;
    if (size < position) position = 0; // truncated or replaced
    if (size > position) {
      onText(readRange(file, position, size));
      position = size;
    }
  }
}
