import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, type DecodeResult } from '../../logs/decode.js';
import { EventPacker, EventUnpacker, unpackedResults, type UnpackedChunk } from '../../logs/packedEvents.js';

const nowMs = Date.parse('2026-12-03T12:00:00Z');
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ timestamp: '2026-12-03T11:59:00Z', client_ip: '203.0.113.9', method: 'GET', path: '/', status: 200, ...fields });
const decodeAll = (lines: (string | null)[]): DecodeResult[] =>
  lines.map((text) => decodeMessage(text === null ? null : Buffer.from(text), { maxMessageBytes: 10_000, nowMs }));
const read = (chunk: UnpackedChunk) => Array.from({ length: chunk.count }, (_, index) => chunk.rejection(index) ?? chunk.event(index));
const expected = (results: DecodeResult[]) => results.map((result) => (result.ok ? result.event : result.rejection));

/** Through structured clone, as the decode thread's reply arrives. */
const overTheWire = <T>(value: T): T => structuredClone(value);

describe('packed decode results', () => {
  it('read back as the decoded events and rejections they were, nulls and empty text kept apart', () => {
    const results = decodeAll([
      line({
        path: '/products/123',
        query: 'q=caf%C3%A9',
        user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
        referrer: '',
        response_time_ms: 12.5,
        bytes: 512,
      }),
      '{"not": "a log"',
      null,
      line({ path: '/søk/日本', client_ip: '2001:db8::1', method: 'POST', status: 404, label: 'scan' }),
      line({ path: '/health' }),
    ]);
    assert.equal(results.filter((result) => !result.ok).length, 2, 'the fixture holds two bad messages');
    const chunk = new EventUnpacker().receive(overTheWire(new EventPacker().pack(results)));
    assert.deepEqual(read(chunk), expected(results));
    assert.deepEqual(read(unpackedResults(results)), expected(results));
  });

  it('shares one string per template and reads earlier chunks right after the symbols start afresh', () => {
    const packer = new EventPacker(4);
    const unpacker = new EventUnpacker();
    const first = decodeAll([line({ path: '/a/1' }), line({ path: '/a/2' })]);
    const second = decodeAll([line({ path: '/b/1', method: 'PUT' }), line({ path: '/c/1' })]);
    // Both chunks are received before either is read, as intake reads them behind the thread.
    const firstView = unpacker.receive(overTheWire(packer.pack(first)));
    const secondPacked = overTheWire(packer.pack(second));
    assert.equal(secondPacked.symbolsReset, true, 'four symbols are too few for both chunks');
    const secondView = unpacker.receive(secondPacked);
    assert.deepEqual(read(firstView), expected(first));
    assert.deepEqual(read(secondView), expected(second));
    assert.equal(firstView.event(0).pathTemplate, firstView.event(1).pathTemplate);
  });
  it('starts its symbols afresh once they hold too many characters (long user agents), and still reads every chunk', () => {
    const packer = new EventPacker(50_000, 10_000);
    const unpacker = new EventUnpacker();
    const agent = (n: number) => `scanner-${n}-${'x'.repeat(6_000)}`;
    const chunks = [0, 1, 2].map((n) => decodeAll([line({ user_agent: agent(n) })]));
    const packed = chunks.map((results) => overTheWire(packer.pack(results)));
    assert.deepEqual(
      packed.map((chunk) => chunk.symbolsReset),
      [false, false, true],
      'two 6,000-character agents pass the 10,000-character bound, so the third chunk starts afresh',
    );
    const views = packed.map((chunk) => unpacker.receive(chunk));
    for (const [n, view] of views.entries()) assert.deepEqual(read(view), expected(chunks[n]!));
  });
});

describe('DecodeThread', () => {
  it('decodes on its thread exactly as decodeMessage does here, chunk after chunk', async () => {
    const { DecodeThread } = await import('../../streamers/decodeThread.js');
    const { DEFAULT_DECODE_SETTINGS } = await import('../../logs/decoder.js');
    const thread = new DecodeThread({ decode: DEFAULT_DECODE_SETTINGS, topic: 'logs', window: false, maxMessageBytes: 10_000 });
    try {
      const values = [line({ path: '/orders/42', label: 'normal' }), '', 'not a log line', 'x'.repeat(10_001), line({ path: '/søk' })];
      const messages = values.map((value, index) => ({
        partition: 0,
        offset: BigInt(index),
        key: null,
        value: Buffer.from(value),
        timestampMs: nowMs,
      }));
      const here = { maxMessageBytes: 10_000, nowMs };
      const expectedResults = values.map((value) => decodeMessage(Buffer.from(value), here));
      const [first, second] = await Promise.all([thread.decode(messages, nowMs), thread.decode(messages.slice(1), nowMs)]);
      assert.deepEqual(read(first!), expected(expectedResults));
      assert.deepEqual(read(second!), expected(expectedResults.slice(1)));
    } finally {
      await thread.close();
    }
  });
});
