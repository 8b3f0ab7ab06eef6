// Partition values and Hive-style partition folders, encoded the way Spark and delta-rs do.

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

// Spark's ExternalCatalogUtils.escapePathName escapes these characters (plus control characters).
const escapedCharacters = new Set(['"', '#', '%', "'", '*', '/', ':', '=', '?', '\\', '\u007f', '{', '[', ']', '^']);

/** Escapes one partition value for a folder name, as Spark's escapePathName does. */
export function escapePartitionValue(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && (code < 0x20 || escapedCharacters.has(char))) out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += char;
  }
  return out;
}

export function unescapePartitionValue(value: string): string {
  return value.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The folder of a partition, e.g. "date=2024-01-01/hour=13"; null or empty values become __HIVE_DEFAULT_PARTITION__. */
export function partitionFolder(partitionColumns: readonly string[], values: Record<string, string | null>): string {
  return partitionColumns
    .map((column) => {
      const value = values[column];
      return `${escapePartitionValue(column)}=${value == null || value === '' ? HIVE_DEFAULT_PARTITION : escapePartitionValue(value)}`;
    })
    .join('/');
}

// RFC 3986 path characters that stay as they are in a URI; everything else is %-encoded (UTF-8).
const uriSafe = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** The add-action path (a relative URI) of a file stored at `storagePath`. */
export function storagePathToUri(storagePath: string): string {
  let out = '';
  for (const char of storagePath) {
    if (uriSafe.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The storage path (relative to the table root) of an add-action path. Absolute URIs are refused by the caller. */
export function uriToStoragePath(uri: string): string {
  return decodeURIComponent(uri);
}

export function isAbsoluteUri(path: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\//.test(path) || path.startsWith('/');
}

/** Serialises a typed value to Delta's partition-value string (PROTOCOL.md "Partition Value Serialization"). */
export function serializePartitionValue(value: unknown, deltaType: string): string | null {
  if (value === null || value === undefined) return null;
  switch (deltaType) {
    case 'date': {
      // Arrow DateDay values arrive as epoch milliseconds.
      const date = value instanceof Date ? value : new Date(Number(value));
      return date.toISOString().slice(0, 10);
    }
    case 'timestamp': {
      const epochMicros =
        typeof value === 'bigint' ? value : BigInt(Math.round(Number(value instanceof Date ? value.getTime() : value) * 1000));
      return formatTimestampMicros(epochMicros, ' ').replace('Z', '');
    }
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return String(value);
  }
}

/** ISO-8601 UTC with microseconds: 2024-01-01T00:00:00.123456Z. */
export function formatTimestampMicros(epochMicros: bigint, separator = 'T'): string {
  const millis = epochMicros / 1000n - (epochMicros % 1000n < 0n ? 1n : 0n);
  const micros = Number(epochMicros - millis * 1000n);
  const iso = new Date(Number(millis)).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 10)}${separator}${iso.slice(11, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Parses a partition timestamp ("2024-01-01 00:00:00", with optional fraction and zone) to epoch microseconds. */
export function parseTimestampMicros(text: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!match) {
    const millis = Date.parse(text);
    if (Number.isNaN(millis)) throw new RangeError(`not a timestamp: ${text}`);
    return BigInt(millis) * 1000n;
  }
  const [, day, time, fraction = '', zone = 'Z'] = match;
  const seconds = Date.parse(`${day}T${time}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(seconds)) throw new RangeError(`not a timestamp: ${text}`);
  return BigInt(seconds) * 1000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
}
