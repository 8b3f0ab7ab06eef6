// Decoded messages packed for the hop from the decode thread to the streamer's main thread: typed
// arrays and one string per chunk instead of an object per row, because structured clone takes
// about 1.7 µs a row to rebuild decoded events on the receiving side and these columns 0.6 µs
// (slices of one string, which V8 makes without copying). Methods, path templates, labels and user
// agents repeat, so they travel once, as symbols: the reader's rows then share one string per
// template, as the decoder's interning gives them within one thread, and one per user agent, so the
// scorer's per-agent lookup on the main thread finds its key by identity, its hash already known,
// instead of hashing and comparing a hundred-character slice per row.
import { ownCopy } from '../common/ownCopy.js';
import type { DecodeResult, Rejection } from './decode.js';
import type { LogEvent } from './record.js';

/** One chunk of messages as the decode thread posts it (every field survives structured clone). */
export interface PackedChunk {
  /** Messages in the chunk, decoded or not. */
  count: number;
  /** The messages that did not decode, by their index in the chunk. */
  rejections: Array<[index: number, rejection: Rejection]>;
  /** Per message: timestampMs, status, responseTimeMs (NaN for none), responseBytes. */
  numbers: Float64Array;
  /** Per message: the symbols of method, pathTemplate, label and userAgent (NO_SYMBOL for null). */
  symbols: Uint32Array;
  /** Per message: where clientIp, path, query and referrer end in `text`. */
  textEnds: Uint32Array;
  /** Per message: which of query and referrer are null (bits 1, 2). */
  nulls: Uint8Array;
  text: string;
  /** Symbols first used in this chunk, in the order of their numbers. */
  newSymbols: string[];
  /** The packer started its symbols afresh before this chunk (it bounds them). */
  symbolsReset: boolean;
}

const NUMBER_FIELDS = 4;
const SYMBOL_FIELDS = 4;
const TEXT_FIELDS = 4;
const NO_SYMBOL = 0xffffffff;
const NULL_QUERY = 1;
const NULL_REFERRER = 2;
/** Distinct symbols the two sides hold before starting afresh: a scanner's random paths must not grow them without end. */
const MAX_SYMBOLS = 50_000;
/**
 * Characters the symbols hold before starting afresh: user agents can be as long as a message, and
 * a scanner sending a new long one per request must not fill memory on both sides.
 */
const MAX_SYMBOL_CHARS = 4_000_000;

/** The decode thread's side: packs each chunk's results, numbering the symbols it has not sent yet. */
export class EventPacker {
  private symbols = new Map<string, number>();
  private symbolChars = 0;

  constructor(
    private readonly maxSymbols = MAX_SYMBOLS,
    private readonly maxSymbolChars = MAX_SYMBOL_CHARS,
  ) {}

  pack(results: readonly DecodeResult[]): PackedChunk {
    const count = results.length;
    const numbers = new Float64Array(count * NUMBER_FIELDS);
    const symbols = new Uint32Array(count * SYMBOL_FIELDS);
    const textEnds = new Uint32Array(count * TEXT_FIELDS);
    const nulls = new Uint8Array(count);
    const rejections: PackedChunk['rejections'] = [];
    const newSymbols: string[] = [];
    // Reset before the chunk, never inside it, so one chunk reads against one set of symbols.
    const symbolsReset = this.symbols.size + count * SYMBOL_FIELDS > this.maxSymbols || this.symbolChars > this.maxSymbolChars;
    if (symbolsReset) {
      this.symbols = new Map();
      this.symbolChars = 0;
    }
    const symbolOf = (value: string): number => {
      let symbol = this.symbols.get(value);
      if (symbol === undefined) {
        symbol = this.symbols.size;
        // The key outlives its message: copy it, or a user agent cut from a line keeps the line.
        const key = ownCopy(value);
        this.symbols.set(key, symbol);
        this.symbolChars += key.length;
        newSymbols.push(key);
      }
      return symbol;
    };
    let text = '';
    for (let index = 0; index < count; index += 1) {
      const result = results[index]!;
      if (!result.ok) {
        rejections.push([index, result.rejection]);
        // Its text fields end where the previous row's did: empty.
        textEnds.fill(text.length, index * TEXT_FIELDS, (index + 1) * TEXT_FIELDS);
        continue;
      }
      const event = result.event;
      const n = index * NUMBER_FIELDS;
      numbers[n] = event.timestampMs;
      numbers[n + 1] = event.status;
      numbers[n + 2] = event.responseTimeMs ?? Number.NaN;
      numbers[n + 3] = event.responseBytes;
      const s = index * SYMBOL_FIELDS;
      symbols[s] = symbolOf(event.method);
      symbols[s + 1] = symbolOf(event.pathTemplate);
      symbols[s + 2] = event.label === null ? NO_SYMBOL : symbolOf(event.label);
      symbols[s + 3] = event.userAgent === null ? NO_SYMBOL : symbolOf(event.userAgent);
      const t = index * TEXT_FIELDS;
      text += event.clientIp;
      textEnds[t] = text.length;
      text += event.path;
      textEnds[t + 1] = text.length;
      if (event.query !== null) text += event.query;
      textEnds[t + 2] = text.length;
      if (event.referrer !== null) text += event.referrer;
      textEnds[t + 3] = text.length;
      nulls[index] = (event.query === null ? NULL_QUERY : 0) | (event.referrer === null ? NULL_REFERRER : 0);
    }
    return { count, rejections, numbers, symbols, textEnds, nulls, text, newSymbols, symbolsReset };
  }
}

/** A received chunk, read row by row: rejected messages keep their reason, the rest read as events. */
export interface UnpackedChunk {
  readonly count: number;
  /** Why message `index` did not decode, or undefined when it did. */
  rejection(index: number): Rejection | undefined;
  /** The event of a message that decoded. */
  event(index: number): LogEvent;
}

/**
 * The main thread's side. Chunks must be received in the order they were packed, since symbols
 * number on from the previous chunk; each chunk may then be read whenever intake gets to it.
 */
export class EventUnpacker {
  private symbols: string[] = [];

  receive(chunk: PackedChunk): PackedChunkView {
    // A new list on reset: chunks received before it still read against the old one.
    if (chunk.symbolsReset) this.symbols = [];
    for (const symbol of chunk.newSymbols) this.symbols.push(symbol);
    return new PackedChunkView(chunk, this.symbols);
  }
}

export class PackedChunkView implements UnpackedChunk {
  private readonly rejections: Map<number, Rejection> | undefined;

  constructor(
    private readonly chunk: PackedChunk,
    private readonly symbols: readonly string[],
  ) {
    this.rejections = chunk.rejections.length ? new Map(chunk.rejections) : undefined;
  }

  get count(): number {
    return this.chunk.count;
  }

  rejection(index: number): Rejection | undefined {
    return this.rejections?.get(index);
  }

  event(index: number): LogEvent {
    const { numbers, symbols, textEnds, nulls, text } = this.chunk;
    const n = index * NUMBER_FIELDS;
    const s = index * SYMBOL_FIELDS;
    const t = index * TEXT_FIELDS;
    const start = t === 0 ? 0 : textEnds[t - 1]!;
    const absent = nulls[index]!;
    const responseTimeMs = numbers[n + 2]!;
    const label = symbols[s + 2]!;
    const userAgent = symbols[s + 3]!;
    return {
      timestampMs: numbers[n]!,
      clientIp: text.slice(start, textEnds[t]),
      method: this.symbols[symbols[s]!]!,
      path: text.slice(textEnds[t], textEnds[t + 1]),
      query: absent & NULL_QUERY ? null : text.slice(textEnds[t + 1], textEnds[t + 2]),
      pathTemplate: this.symbols[symbols[s + 1]!]!,
      status: numbers[n + 1]!,
      responseTimeMs: Number.isNaN(responseTimeMs) ? null : responseTimeMs,
      responseBytes: numbers[n + 3]!,
      referrer: absent & NULL_REFERRER ? null : text.slice(textEnds[t + 2], textEnds[t + 3]),
      userAgent: userAgent === NO_SYMBOL ? null : this.symbols[userAgent]!,
      label: label === NO_SYMBOL ? null : this.symbols[label]!,
    };
  }
}

/** The typed arrays of a chunk, to transfer rather than copy. */
export function transferablesOf(chunk: PackedChunk): ArrayBuffer[] {
  return [chunk.numbers.buffer, chunk.symbols.buffer, chunk.textEnds.buffer, chunk.nulls.buffer] as ArrayBuffer[];
}

/** Results decoded on this thread, read the same way. */
export function unpackedResults(results: readonly DecodeResult[]): UnpackedChunk {
  return {
    count: results.length,
    rejection: (index) => {
      const result = results[index]!;
      return result.ok ? undefined : result.rejection;
    },
    event: (index) => (results[index] as { event: LogEvent }).event,
  };
}
