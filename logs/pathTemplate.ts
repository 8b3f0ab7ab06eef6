// Normalises request paths into endpoint templates (/products/1234 -> /products/{id}) so that
// endpoints can be counted and compared without one label per product, user or session.

const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
const EMAIL = /^[^@/\s]+@[^@/\s]+\.[a-z]{2,}$/i;
/** Mixed letters and digits, 8+ characters: session ids, tokens, slugs with ids. */
const TOKEN = /^(?=.*\d)(?=.*[a-z])[a-z0-9_-]{8,}$/i;
const MAX_SEGMENTS = 12;

export function pathTemplate(path: string): string {
  const withoutQuery = path.split(/[?#]/, 1)[0] ?? '';
  const segments = withoutQuery.split('/').filter((segment) => segment.length > 0);
  if (segments.length === 0) return '/';
  const normalised = segments.slice(0, MAX_SEGMENTS).map(normaliseSegment);
  if (segments.length > MAX_SEGMENTS) normalised.push('{…}');
  return intern(['', ...normalised].join('/'));
}

/**
 * One string instance per template. Templates are map keys all along the pipeline (features,
 * metrics labels, per-minute aggregates); a shared instance hashes once, where every fresh copy
 * would be hashed again at each lookup. Bounded: forgotten when full.
 */
const interned = new Map<string, string>();
const MAX_INTERNED = 10_000;

function intern(template: string): string {
  const known = interned.get(template);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(template, template);
  return template;
}

function normaliseSegment(segment: string): string {
  if (NUMERIC.test(segment)) return '{id}';
  if (UUID.test(segment)) return '{uuid}';
  if (LONG_HEX.test(segment)) return '{hash}';
  if (EMAIL.test(segment)) return '{email}';
  if (TOKEN.test(segment) && !segment.includes('.')) return '{token}';
  return segment.length > 64 ? '{long}' : segment;
}
