// What a request's path and query say by themselves: length, percent-escapes, unusual characters,
// and tokens of SQL, script or file-path injection. Pure; a fast scan for the common case (plain
// characters only) and a decoding pass with the token patterns only for text that needs one.

/** Token classes found in a request's text, as bits. */
export const SQL_TOKEN = 1;
export const SCRIPT_TOKEN = 2;
export const TRAVERSAL_TOKEN = 4;

/** A scan's result, reused by the caller. */
export interface ContentScan {
  /** Characters scanned. */
  length: number;
  /** Well-formed %XX escapes. */
  escapes: number;
  /** Quotes, angle brackets, parentheses, semicolons, backslashes, braces, pipes and the like (after decoding). */
  specials: number;
  /** SQL_TOKEN | SCRIPT_TOKEN | TRAVERSAL_TOKEN. */
  tokens: number;
}

export const emptyScan = (): ContentScan => ({ length: 0, escapes: 0, specials: 0, tokens: 0 });

const PLAIN = 0;
/** Counted as unusual, and worth a decoding pass. */
const SPECIAL = 1;
/** Not unusual by itself, but a decoding pass may find something: %, +, space, the second dot of "..". */
const TRIGGER = 2;
const DOT = 3;

const CLASS = new Uint8Array(128).fill(PLAIN);
for (let code = 0; code < 32; code += 1) CLASS[code] = SPECIAL;
for (const character of `'"<>();\\\`{}|^[]$*!`) CLASS[character.charCodeAt(0)] = SPECIAL;
for (const character of '%+ ') CLASS[character.charCodeAt(0)] = TRIGGER;
CLASS['.'.charCodeAt(0)] = DOT;
CLASS[127] = SPECIAL;

/** Adds the scan of `text` to `into` (so a path and a query add up). */
export function scanContent(text: string, into: ContentScan): void {
  const length = text.length;
  let specials = 0;
  let escapes = 0;
  let decode = false;
  let previousDot = false;
  for (let index = 0; index < length; index += 1) {
    const code = text.charCodeAt(index);
    const kind = code < 128 ? CLASS[code]! : SPECIAL;
    if (kind === PLAIN) {
      previousDot = false;
      continue;
    }
    if (kind === DOT) {
      if (previousDot) decode = true;
      previousDot = true;
      continue;
    }
    previousDot = false;
    if (kind === SPECIAL) {
      specials += 1;
      decode = true;
    } else {
      decode = true;
      if (code === 37 && index + 2 < length && isHex(text.charCodeAt(index + 1)) && isHex(text.charCodeAt(index + 2))) escapes += 1;
    }
  }
  into.length += length;
  into.escapes += escapes;
  if (!decode) {
    into.specials += specials;
    return;
  }
  const decoded = decodeTwice(text);
  into.specials += countSpecials(decoded);
  into.tokens |= tokensIn(decoded);
}

/** Token bits in decoded, lower-case text. */
export function tokensIn(text: string): number {
  const traversal = TRAVERSAL.test(text) || text.includes(NUL);
  return (SQL.test(text) ? SQL_TOKEN : 0) | (SCRIPT.test(text) ? SCRIPT_TOKEN : 0) | (traversal ? TRAVERSAL_TOKEN : 0);
}

// Grammar of injection rather than known payloads: SQL keywords in the order a statement needs
// them, a quote closing a literal before an operator or a comment, tautologies, time-based probes
// and catalogue tables; HTML tags and event handlers, script URLs, template and expression
// injection; parent-directory steps, sensitive system files, stream wrappers, null bytes and
// shell commands after a separator.
const SQL =
  /\bunion\b[\s(]+(?:all\s+|distinct\s+)?select\b|\bselect\b.{1,80}?\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bdrop\s+(?:table|database)\b|\bupdate\s+\w+\s+set\b|\b(?:sleep|benchmark|pg_sleep|extractvalue|updatexml|load_file)\s*\(|\bwaitfor\s+delay\b|\binformation_schema\b|\bxp_cmdshell\b|@@version|\binto\s+(?:out|dump)file\b|['"`)]\s*(?:or|and|xor|\|\||&&)\s+[\w'"(]|\b(?:or|and)\s+(\w+)\s*=\s*\1\b|\b(?:or|and)\s+\d+\s*[<>=]|['"`)]\s*(?:--|#|\/\*|;)|\border\s+by\s+\d+\s*(?:--|#)|\/\*.*?\*\//;
const SCRIPT =
  /<\s*\/?\s*(?:script|iframe|img|svg|body|object|embed|details|input|form|style|link|meta|video|audio|marquee|math|base|frameset|textarea)\b|[\s/"'>;]on(?:error|load|unload|mouse[a-z]{2,8}|focus[a-z]{0,3}|blur|toggle|click|dblclick|key[a-z]{2,5}|submit|begin|end|animation[a-z]{3,9}|transition[a-z]{3,6}|pointer[a-z]{2,6}|touch[a-z]{3,6}|change|input|wheel|drag[a-z]{0,5}|copy|paste|scroll|resize|hashchange|message|show|start|finish|readystatechange)\s*=|(?:java|vb)script\s*:|data\s*:\s*text\/html|document\s*\.\s*(?:cookie|domain|location|write)|\b(?:alert|prompt|confirm|eval|settimeout|fromcharcode)\s*\(|\bexpression\s*\(|<\?php|\$\{[^}]*(?:jndi|env|sys|lower|upper):|\{\{.{0,80}\}\}|<%.{0,80}%>/;
const TRAVERSAL =
  /(?:^|[/\\=])\.\.(?:[/\\;]|\u00c0\u00af|\u00e0\u0080\u00af|$)|\/etc\/(?:passwd|shadow|hosts|group|issue)\b|\b(?:win|boot|system)\.ini\b|\/proc\/self\/|\b[a-z]:[\\/](?:windows|winnt|boot)|\b(?:file|php|expect|phar|zip|data|gopher|dict|jar):\/\/?|\/var\/log\/|(?:[;|`]|&&)\s*(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|bash|sh|ping|nslookup)(?:\s|$|[;|`&])|\$\(\s*(?:cat|id|whoami|wget|curl|uname)\b/;

/** A null byte (%00) cuts a path short in C-based file APIs: a classic of path traversal. */
const NUL = String.fromCharCode(0);

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 102);
}

/** Percent-decoding that never throws (bytes as Latin-1 characters), '+' as space, applied twice for double encoding; lower case. */
function decodeTwice(text: string): string {
  const once = percentDecode(text);
  return (once.includes('%') ? percentDecode(once) : once).toLowerCase();
}

function percentDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  let out = '';
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 43) {
      out += `${text.slice(start, index)} `;
      start = index + 1;
    } else if (code === 37 && index + 2 < text.length && isHex(text.charCodeAt(index + 1)) && isHex(text.charCodeAt(index + 2))) {
      out += text.slice(start, index) + String.fromCharCode(Number.parseInt(text.slice(index + 1, index + 3), 16));
      index += 2;
      start = index + 1;
    }
  }
  return out + text.slice(start);
}

function countSpecials(text: string): number {
  let specials = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 128 ? CLASS[code] === SPECIAL : code < 160) specials += 1;
  }
  return specials;
}
