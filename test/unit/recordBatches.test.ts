// clients/kafka/recordBatches.ts against kafkajs's own record batch decoder, on batches that
// kafkajs's producer encoding writes: both must return the same records.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../clients/kafka/index.js';
import { DecodedRecord, decodeRecordBatch, type KafkajsDecoder, recordBatchDecoderInstalled } from '../../clients/kafka/recordBatches.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const Decoder = require('kafkajs/src/protocol/decoder');
const Long = require('kafkajs/src/utils/long');
const { Types: Compression } = require('kafkajs/src/protocol/message/compression');
// The file itself, not the module cache entry that installRecordBatchDecoder replaced.
const kafkajsDecodeRecordBatch = loadUncached('kafkajs/src/protocol/recordBatch/v0/decoder.js');

interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, string | string[]>;
  timestampDelta?: number;
}

/** One record batch as kafkajs's producer encodes it (a fetch response carries these back unchanged). */
async function encodeBatch(firstOffset: string, records: TestRecord[], options: { compression?: number; attributes?: number } = {}) {
  const firstTimestamp = 1_764_633_600_000;
  const batch = await RecordBatch({
    compression: options.compression,
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp,
    maxTimestamp: firstTimestamp + 5_000,
    lastOffsetDelta: records.length - 1,
    records: records.map((record, offsetDelta) => Record({ offsetDelta, ...record })),
  });
  const bytes: Buffer = batch.buffer;
  // Attributes the producer never sets (control batch, log-append time), set in place: neither decoder checks the CRC.
  if (options.attributes) bytes.writeInt16BE(bytes.readInt16BE(21) | options.attributes, 21);
  return bytes;
}

/** Every record of the batches in `bytes`, by one decoder, as plain objects with the key read. */
async function decodeAll(decode: (decoder: KafkajsDecoder) => Promise<{ records: DecodedRecord[] }>, bytes: Buffer) {
  const decoder = new Decoder(bytes);
  const records: Record<string, unknown>[] = [];
  while (decoder.canReadBytes(49)) {
    for (const record of (await decode(decoder)).records) {
      records.push({
        magicByte: record.magicByte,
        attributes: record.attributes,
        timestamp: record.timestamp,
        offset: record.offset,
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
        isControlRecord: record.isControlRecord,
        batchContext: { ...record.batchContext },
      });
    }
  }
  return records;
}

async function assertSameRecords(bytes: Buffer) {
  const ours = await decodeAll(decodeRecordBatch, bytes);
  assert.deepEqual(ours, await decodeAll(kafkajsDecodeRecordBatch, bytes));
  return ours;
}

const access = (index: number) => Buffer.from(JSON.stringify({ ip: `10.0.0.${index}`, path: `/items/${index}`, status: 200 }));

describe('decodeRecordBatch', () => {
  it('returns the records kafkajs returns, batch after batch, with null keys and values and headers', async () => {
    const bytes = Buffer.concat([
      await encodeBatch(
        '41',
        Array.from({ length: 300 }, (_, index) => ({
          key: Buffer.from(`client-${index % 7}`),
          value: access(index),
          timestampDelta: index * 3,
        })),
      ),
      await encodeBatch('341', [
        { key: null, value: access(1) },
        { key: Buffer.from('k'), value: null },
        { key: Buffer.alloc(0), value: Buffer.alloc(0), timestampDelta: -2_000 },
        { key: null, value: access(2), headers: { source: 'web-1', trace: ['a', 'b', 'c'], ünï: 'çödé' } },
      ]),
    ]);
    const records = await assertSameRecords(bytes);
    assert.equal(records.length, 304);
    assert.equal(records.at(-1)!.offset, '344');
    assert.deepEqual(records.at(-1)!.headers, {
      source: Buffer.from('web-1'),
      trace: [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')],
      ünï: Buffer.from('çödé'),
    });
  });

  it('gives each record its offset as a bigint and its timestamp as a number, past 2^53 too', async () => {
    const small = await decodeRecordBatch(new Decoder(await encodeBatch('1000', [{ key: null, value: access(1), timestampDelta: 250 }])));
    assert.equal(small.records[0]!.offsetValue, 1000n);
    assert.equal(small.records[0]!.timestampMs, 1_764_633_600_250);
    const largeOffset = '9007199254740993';
    const large = await assertSameRecords(
      await encodeBatch(largeOffset, [
        { key: null, value: access(1) },
        { key: null, value: access(2) },
      ]),
    );
    assert.deepEqual(
      large.map((record) => record.offset),
      ['9007199254740993', '9007199254740994'],
    );
    const decoded = await decodeRecordBatch(new Decoder(await encodeBatch(largeOffset, [{ key: null, value: access(1) }])));
    assert.equal(decoded.records[0]!.offsetValue, 9007199254740993n);
  });

  it('decompresses gzip batches, and keeps log-append time and control batches as kafkajs reads them', async () => {
    const values = Array.from({ length: 50 }, (_, index) => ({ key: null, value: access(index), timestampDelta: index }));
    assert.equal((await assertSameRecords(await encodeBatch('7', values, { compression: Compression.GZIP }))).length, 50);
    const appendTime = await assertSameRecords(await encodeBatch('7', values.slice(0, 3), { attributes: 0x8 }));
    assert.deepEqual(
      appendTime.map((record) => record.timestamp),
      Array(3).fill(String(1_764_633_605_000)),
    );
    const control = await assertSameRecords(
      await encodeBatch('7', [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { attributes: 0x20 }),
    );
    assert.equal(control[0]!.isControlRecord, true);
  });

  it('throws kafkajs partial-message error on a batch cut short, after which the fetch stops reading', async () => {
    const whole = await encodeBatch('0', [{ key: null, value: access(1) }]);
    const cut = whole.subarray(0, whole.length - 10);
    await assert.rejects(decodeRecordBatch(new Decoder(cut)), { name: 'KafkaJSPartialMessageError' });
    await assert.rejects(kafkajsDecodeRecordBatch(new Decoder(cut)), { name: 'KafkaJSPartialMessageError' });
  });

  it('is the decoder kafkajs fetch responses use once clients/kafka is loaded', async () => {
    assert.equal(recordBatchDecoderInstalled(), true);
    const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js');
    const batch = await encodeBatch('5', [{ key: Buffer.from('a'), value: access(1) }]);
    const sized = Buffer.alloc(4 + batch.length);
    sized.writeInt32BE(batch.length);
    batch.copy(sized, 4);
    const [record] = await decodeMessages(new Decoder(sized));
    assert.ok(record instanceof DecodedRecord);
    assert.deepEqual(record.key, Buffer.from('a'));
  });
});

/** Loads a CommonJS file of kafkajs afresh, bypassing the module cache entry that shadows it. */
function loadUncached(specifier: string) {
  const path = require.resolve(specifier);
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path);
  } finally {
    if (cached) require.cache[path] = cached;
  }
}
