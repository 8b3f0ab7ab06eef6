// Normalises request paths into endpoint templates (/products/1234 -> /products/{id}) so that
// endpoints can be counted and compared without one label per product, user or session.

const EMAIL = /^[^@/\s]+@[^@/\s]+\.[a-z]{2,}$/i;
const MAX_SEGMENTS = 12;

export function pathTemplate(path: string): string {
  // One pass over the characters, no regular expression for the usual segments: this runs once
  // per log line.
  let template = '';
  let segments = 0;
  let start = 0;
  const length = path.length;
  for (let index = 0; index <= length; index += 1) {
    const code = index < length ? path.charCodeAt(index) : 47;
    if (code === 63 || code === 35) {
      // "?" or "#": the query or fragment starts; the last segment ends here.
      if (index > start) {
        if (segments === MAX_SEGMENTS) return intern(`${template}/{…}`);
        template += `/${normaliseSegment(path, start, index)}`;
        segments += 1;
      }
      break;
    }
    if (code !== 47) continue;
    if (index > start) {
      if (segments === MAX_SEGMENTS) return intern(`${template}/{…}`);
      template += `/${normaliseSegment(path, start, index)}`;
      segments += 1;
    }
    start = index + 1;
  }
  return template === '' ? '/' : intern(template);
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

const isDigit = (code: number) => code >= 48 && code <= 57;
const isHexLetter = (code: number) => (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
const isLetter = (code: number) => (code >= 97 && code <= 122) || (code >= 65 && code <= 90);

/** The placeholder of path[start, end), or the segment itself. */
function normaliseSegment(path: string, start: number, end: number): string {
  const length = end - start;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let tokenChars = 0;
  let at = false;
  for (let index = start; index < end; index += 1) {
    const code = path.charCodeAt(index);
    if (isDigit(code)) {
      digits += 1;
      hex += 1;
      tokenChars += 1;
    } else if (isLetter(code)) {
      letters += 1;
      tokenChars += 1;
      if (isHexLetter(code)) hex += 1;
    } else if (code === 45 || code === 95) tokenChars += 1;
    else if (code === 64) at = true;
  }
  if (digits === length) return '{id}';
  if (length === 36 && hex === 32 && isUuid(path, start)) return '{uuid}';
  if (hex === length && length >= 16) return '{hash}';
  const segment = path.slice(start, end);
  if (at && EMAIL.test(segment)) return '{email}';
  if (tokenChars === length && length >= 8 && digits > 0 && letters > 0) return '{token}';
  return length > 64 ? '{long}' : segment;
}

/** 8-4-4-4-12 hex digits (the caller counted 32 hex digits in 36 characters). */
function isUuid(path: string, start: number): boolean {
  return (
    path.charCodeAt(start + 8) === 45 &&
    path.charCodeAt(start + 13) === 45 &&
    path.charCodeAt(start + 18) === 45 &&
    path.charCodeAt(start + 23) === 45
  );
}
