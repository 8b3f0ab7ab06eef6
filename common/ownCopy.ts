/**
 * A string of its own for a long-lived key. A string cut from a larger one (a regex capture, a
 * slice of a chunk's text) can share that larger string's memory in V8, so keeping it as a cache or
 * symbol key would keep the whole message or chunk alive. JSON round-trips any string exactly,
 * lone surrogates included; callers run it on cache misses only.
 */
export function ownCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
