// Waiting for a topic the broker has just created to show in its metadata.
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Whether a failed topic creation may still have created the topic: a KRaft broker acknowledges
 * the creation before its metadata cache holds the topic, and for that moment metadata requests
 * answer UNKNOWN_TOPIC_OR_PARTITION (retriable), which kafkajs's createTopics with waitForLeaders
 * does not retry: it throws, though the topic is there a moment later.
 */
export function mayStillAppear(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** Polls `listTopics` until it names `topic` (true) or `timeoutMs` has passed (false). */
export async function waitForTopic(
  listTopics: () => Promise<string[]>,
  topic: string,
  timeoutMs: number,
  intervalMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const topics = await listTopics().catch(() => [] as string[]);
    if (topics.includes(topic)) return true;
    if (Date.now() >= deadline) return false;
    await delay(intervalMs);
  }
}
