// Reads a wall-clock time written without a zone ("2025-01-01T10:00:00") in a configured zone
// instead of the server's (which is what Date.parse does). Zones are "UTC", a fixed offset such as
// "+02:00", or an IANA name such as "Europe/Paris", whose offsets come from Intl.

/** Wall-clock time as if it were UTC (epoch ms) -> the real instant in the zone (epoch ms). */
export type WallClockReader = (wallClockAsUtcMs: number) => number;

const OFFSET = /^([+-])(\d{2}):?(\d{2})$/;
/** Offsets change at most every quarter of an hour of UTC time (tzdb transitions since 1970). */
const OFFSET_CACHE_BUCKET_MS = 15 * 60_000;
const OFFSET_CACHE_ENTRIES = 10_000;
const HALF_DAY_MS = 12 * 3_600_000;

/** Whether `zone` is "UTC", "+hh:mm"/"-hh:mm" or a time zone name this Node.js knows. */
export function isValidTimeZone(zone: string): boolean {
  if (zone === 'UTC' || OFFSET.test(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function wallClockReader(zone: string): WallClockReader {
  if (zone === 'UTC' || zone === 'Etc/UTC' || zone === 'Z') return (wallMs) => wallMs;
  const fixed = OFFSET.exec(zone);
  if (fixed) {
    const offsetMs = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
    return (wallMs) => wallMs - offsetMs;
  }
  const offsetAt = zoneOffsetLookup(zone);
  return (wallMs) => {
    // The offsets half a day either side cover any transition near this wall time. A wall time
    // repeated when clocks go back takes the earlier instant; one skipped when they go forward is
    // read with the offset before the change (02:30 becomes 03:30), as Temporal's "compatible"
    // disambiguation does.
    const before = offsetAt(wallMs - HALF_DAY_MS);
    const after = offsetAt(wallMs + HALF_DAY_MS);
    if (before === after) return wallMs - before;
    const withBefore = wallMs - before;
    const withAfter = wallMs - after;
    const beforeFits = offsetAt(withBefore) === before;
    const afterFits = offsetAt(withAfter) === after;
    if (beforeFits && afterFits) return Math.min(withBefore, withAfter);
    if (beforeFits) return withBefore;
    if (afterFits) return withAfter;
    return withBefore;
  };
}

/** Offset of `zone` from UTC (ms) at a UTC instant, cached per quarter hour. */
function zoneOffsetLookup(zone: string): (utcMs: number) => number {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const cache = new Map<number, number>();
  return (utcMs) => {
    const bucket = Math.floor(utcMs / OFFSET_CACHE_BUCKET_MS);
    let offset = cache.get(bucket);
    if (offset === undefined) {
      const at = bucket * OFFSET_CACHE_BUCKET_MS;
      const parts: Record<string, number> = {};
      for (const part of format.formatToParts(at)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
      const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
      offset = wall - at;
      if (cache.size >= OFFSET_CACHE_ENTRIES) cache.clear();
      cache.set(bucket, offset);
    }
    return offset;
  };
}
