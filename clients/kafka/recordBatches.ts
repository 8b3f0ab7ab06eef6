// A faster decoder of Kafka record batches (message format v2) for kafkajs's fetch responses. kafkajs
// decodes each record through a Buffer slice, a Decoder object, 64-bit arithmetic on objects around
// BigInt, and offsets and timestamps parsed from strings and printed back (a sixth of the streamer's
// main thread and much of its garbage, bench/peer/PROFILE.md). This reads the same bytes in place with
// plain numbers and returns records of exactly kafkajs's shape, so kafkajs's consumer works on them
// unchanged; each record also carries its offset as a bigint and its timestamp as a number
// (DecodedRecord) so that clients/kafka need not parse them again.
//
// kafkajs has no hook for this: installRecordBatchDecoder() puts the function in Node's module cache
// under the path of kafkajs's own decoder before kafkajs first loads it (fetch responses load their
// decoders on the first fetch). kafkajs 2.2.4, its last release, is pinned by the lockfile;
// test/unit/recordBatches.test.ts compares both decoders on the same bytes.
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/** kafkajs's protocol Decoder, as far as a record batch decoder uses it. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  forward(bytes: number): void;
}

/**
 * One record as kafkajs's record decoder returns it, plus the two values clients/kafka reads as
 * numbers. The key is cut from the fetched bytes only when read: a Buffer view costs about 300 ns,
 * and the streamers never read keys.
 */
export class DecodedRecord {
  constructor(
    readonly magicByte: number,
    readonly attributes: number,
    /** Epoch ms as a decimal string (kafkajs's type). */
    readonly timestamp: string,
    /** Decimal string (kafkajs's type). */
    readonly offset: string,
    private readonly source: Buffer,
    /** Where the key starts in source; -1 for a null key. */
    private readonly keyStart: number,
    private readonly keyLength: number,
    readonly value: Buffer | null,
    readonly headers: Headers,
    readonly isControlRecord: boolean,
    readonly batchContext: BatchContext,
    readonly offsetValue: bigint,
    readonly timestampMs: number,
  ) {}

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : this.source.subarray(this.keyStart, this.keyStart + this.keyLength);
  }
}

/** kafkajs's header object: one Buffer per key, an array when a key repeats. */
export type Headers = Record<string, Buffer | null | (Buffer | null)[]>;

interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** kafkajs's TimestampTypes. */
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;
/** Bytes of a batch before its records: offset, length, and the header fields up to the record count. */
const BATCH_HEADER_BYTES = 61;

type Codec = { decompress(buffer: Buffer): Promise<Buffer> };
interface KafkajsInternals {
  lookupCodecByAttributes(attributes: number): Codec | null;
  PartialMessageError: new (message: string) => Error;
}

/** What of kafkajs the decoder uses; undefined when its files are not where 2.2.4 has them (then nothing is installed). */
const kafkajs: KafkajsInternals | undefined = (() => {
  try {
    return {
      lookupCodecByAttributes: require('kafkajs/src/protocol/message/compression').lookupCodecByAttributes,
      PartialMessageError: require('kafkajs/src/errors').KafkaJSPartialMessageError,
    };
  } catch {
    return undefined;
  }
})();

/** Headers of a record that has none: shared, since nothing writes to a consumed record's headers. */
const NO_HEADERS: Headers = Object.freeze({});

/** Decodes the record batch at the decoder's position and moves it past the batch, as kafkajs's recordBatch/v0/decoder does. */
export async function decodeRecordBatch(fetchDecoder: KafkajsDecoder): Promise<BatchContext & { records: DecodedRecord[] }> {
  if (!kafkajs) throw new Error('kafkajs 2.2.4 is not installed: its record batch decoder cannot be replaced');
  const buffer = fetchDecoder.buffer;
  const start = fetchDecoder.offset;
  const firstOffset = buffer.readBigInt64BE(start);
  const length = buffer.readInt32BE(start + 8);
  fetchDecoder.forward(12 + length);
  if (buffer.length - (start + 12) < length) {
    throw new kafkajs.PartialMessageError(
      `Tried to decode a partial record batch: remainingBytes(${buffer.length - (start + 12)}) < recordBatchLength(${length})`,
    );
  }
  const end = start + 12 + length;
  const magicByte = buffer.readInt8(start + 16);
  const attributes = buffer.readInt16BE(start + 21);
  const firstTimestamp = buffer.readBigInt64BE(start + 27);
  const maxTimestamp = buffer.readBigInt64BE(start + 35);
  const context: BatchContext = {
    firstOffset: firstOffset.toString(),
    firstTimestamp: firstTimestamp.toString(),
    partitionLeaderEpoch: buffer.readInt32BE(start + 12),
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
    lastOffsetDelta: buffer.readInt32BE(start + 23),
    producerId: buffer.readBigInt64BE(start + 43).toString(),
    producerEpoch: buffer.readInt16BE(start + 51),
    firstSequence: buffer.readInt32BE(start + 53),
    maxTimestamp: maxTimestamp.toString(),
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
    magicByte,
  };
  const count = buffer.readInt32BE(start + BATCH_HEADER_BYTES - 4);
  const codec = kafkajs.lookupCodecByAttributes(attributes);
  if (count <= 0) return { ...context, records: [] };
  const base: RecordBase = {
    firstOffset,
    firstTimestamp: Number(firstTimestamp),
    appendTime: context.timestampType === LOG_APPEND_TIME ? Number(maxTimestamp) : undefined,
  };
  const records = codec
    ? readRecords(await codec.decompress(buffer.subarray(start + BATCH_HEADER_BYTES, end)), 0, count, context, base)
    : readRecords(buffer, start + BATCH_HEADER_BYTES, count, context, base);
  return { ...context, records };
}

/** What every record of a batch adds its deltas to, as the batch header gives them. */
interface RecordBase {
  firstOffset: bigint;
  firstTimestamp: number;
  /** The batch's max timestamp under log-append time: then every record has it. */
  appendTime: number | undefined;
}

/** Decodes `count` records from `at` on. */
function readRecords(buffer: Buffer, at: number, count: number, context: BatchContext, base: RecordBase): DecodedRecord[] {
  const records = new Array<DecodedRecord>(count);
  const reader = { buffer, at };
  const { firstOffset, firstTimestamp, appendTime } = base;
  // Plain numbers while every offset of the batch is exact (always, in practice: an offset delta is
  // at most 2^31); bigint arithmetic otherwise.
  const offsetBase = firstOffset <= BigInt(Number.MAX_SAFE_INTEGER - 2 ** 31) ? Number(firstOffset) : undefined;
  for (let index = 0; index < count; index += 1) {
    const length = readVarInt(reader);
    const recordEnd = reader.at + length;
    const attributes = buffer.readInt8(reader.at);
    reader.at += 1;
    const timestampDelta = readVarLong(reader);
    const timestampMs = appendTime ?? firstTimestamp + timestampDelta;
    const offsetDelta = readVarInt(reader);
    const offsetValue = offsetBase === undefined ? firstOffset + BigInt(offsetDelta) : BigInt(offsetBase + offsetDelta);
    const keyLength = readVarInt(reader);
    const keyStart = keyLength < 0 ? -1 : reader.at;
    if (keyLength > 0) reader.at += keyLength;
    const value = readBytes(reader);
    const headers = readHeaders(reader);
    reader.at = recordEnd;
    records[index] = new DecodedRecord(
      context.magicByte,
      attributes,
      appendTime === undefined ? String(timestampMs) : context.maxTimestamp,
      offsetBase === undefined ? offsetValue.toString() : String(offsetBase + offsetDelta),
      buffer,
      keyStart,
      keyLength,
      value,
      headers,
      context.isControlBatch,
      context,
      offsetValue,
      timestampMs,
    );
  }
  return records;
}

interface Reader {
  buffer: Buffer;
  at: number;
}

/** A zigzag-encoded varint of up to 32 bits. */
function readVarInt(reader: Reader): number {
  const { buffer } = reader;
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buffer[reader.at++]!;
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag-encoded varint of up to 64 bits, as a number (exact up to 2^53: timestamp deltas are far smaller). */
function readVarLong(reader: Reader): number {
  const { buffer } = reader;
  let result = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = buffer[reader.at++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return result % 2 === 1 ? -(result + 1) / 2 : result / 2;
}

function readBytes(reader: Reader): Buffer | null {
  const length = readVarInt(reader);
  if (length < 0) return null;
  const bytes = reader.buffer.subarray(reader.at, reader.at + length);
  reader.at += length;
  return bytes;
}

/** kafkajs's header object: one Buffer per key, an array when a key repeats. */
function readHeaders(reader: Reader): Headers {
  const count = readVarInt(reader);
  if (count <= 0) return NO_HEADERS;
  const headers: Headers = {};
  for (let index = 0; index < count; index += 1) {
    const keyLength = readVarInt(reader);
    const key = reader.buffer.toString('utf8', reader.at, reader.at + keyLength);
    reader.at += keyLength;
    const value = readBytes(reader);
    const existing = headers[key];
    headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return headers;
}

/** Where kafkajs's fetch responses find their record batch decoder. */
const KAFKAJS_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const KAFKAJS_DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';

/**
 * Makes kafkajs's fetch responses decode record batches with decodeRecordBatch. Returns false, and
 * kafkajs keeps its own decoder, when a fetch response was decoded before (its modules hold the
 * decoder they loaded) or kafkajs's files are not where 2.2.4 has them.
 */
export function installRecordBatchDecoder(): boolean {
  if (!kafkajs) return false;
  let decoderPath: string;
  let decodeMessagesPath: string;
  try {
    decoderPath = require.resolve(KAFKAJS_DECODER);
    decodeMessagesPath = require.resolve(KAFKAJS_DECODE_MESSAGES);
  } catch {
    return false;
  }
  const cached = require.cache[decoderPath];
  if (cached?.exports === decodeRecordBatch) return true;
  if (require.cache[decodeMessagesPath]) return false;
  const replacement = new Module(decoderPath);
  replacement.filename = decoderPath;
  replacement.loaded = true;
  replacement.exports = decodeRecordBatch;
  require.cache[decoderPath] = replacement;
  return true;
}

/** True when kafkajs decodes record batches with decodeRecordBatch (install first). */
export function recordBatchDecoderInstalled(): boolean {
  try {
    return require.cache[require.resolve(KAFKAJS_DECODER)]?.exports === decodeRecordBatch;
  } catch {
    return false;
  }
}
