// Sends messages to Kafka at a target rate, in chunks, reporting progress (used by `generate` and `replay`).
import type { MessageProducer, OutgoingMessage } from './index.js';

export interface SendProgress {
  sent: number;
  elapsedMs: number;
  /** Rate over the last progress interval, messages per second. */
  currentRatePerSecond: number;
}

export interface PacedSendOptions {
  producer: MessageProducer;
  topic: string;
  /** How many messages to send at most; nextMessage returning undefined ends earlier. */
  count: number;
  /** Target rate; Infinity sends as fast as the broker takes them. */
  ratePerSecond: number;
  nextMessage(): OutgoingMessage | undefined;
  signal?: AbortSignal;
  onProgress?(progress: SendProgress): void;
}

const MAX_CHUNK = 2000;
const TICK_MS = 50;
const PROGRESS_INTERVAL_MS = 500;

/** How many messages are due after `elapsedMs` at `ratePerSecond`. Pure, for pacing. */
export function messagesDue(elapsedMs: number, ratePerSecond: number, count: number): number {
  if (!Number.isFinite(ratePerSecond)) return count;
  return Math.min(count, Math.floor((elapsedMs / 1000) * ratePerSecond) + 1);
}

export async function pacedSend(options: PacedSendOptions): Promise<{ sent: number; elapsedMs: number }> {
  const startedMs = Date.now();
  let sent = 0;
  let finished = false;
  let lastProgressMs = startedMs;
  let sentAtLastProgress = 0;
  while (!finished && sent < options.count && !options.signal?.aborted) {
    const due = messagesDue(Date.now() - startedMs, options.ratePerSecond, options.count);
    if (due <= sent) {
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      continue;
    }
    const chunk: OutgoingMessage[] = [];
    while (chunk.length < Math.min(MAX_CHUNK, due - sent)) {
      const message = options.nextMessage();
      if (!message) {
        finished = true;
        break;
      }
      chunk.push(message);
    }
    if (chunk.length) await options.producer.send(options.topic, chunk);
    sent += chunk.length;
    const nowMs = Date.now();
    if (options.onProgress && nowMs - lastProgressMs >= PROGRESS_INTERVAL_MS) {
      options.onProgress({
        sent,
        elapsedMs: nowMs - startedMs,
        currentRatePerSecond: ((sent - sentAtLastProgress) * 1000) / (nowMs - lastProgressMs),
      });
      lastProgressMs = nowMs;
      sentAtLastProgress = sent;
    }
  }
  return { sent, elapsedMs: Date.now() - startedMs };
}
