// Worker thread that decodes and validates a streamer's Kafka messages (logs/decode.ts), so that
// JSON parsing, the field mappings and path templates, a quarter of the main thread's work, run
// beside it on the second core. Answers each chunk with the results packed (logs/packedEvents.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { decodeMessage, type DecodeOptions } from '../logs/decode.js';
import { createDecoder } from '../logs/decoder.js';
import { EventPacker, transferablesOf } from '../logs/packedEvents.js';
import type { DecodeRequest, DecodeThreadSettings } from './decodeThread.js';

const settings = workerData as DecodeThreadSettings;
const options: DecodeOptions = {
  maxMessageBytes: settings.maxMessageBytes,
  nowMs: 0,
  decoder: createDecoder(settings.decode, { topic: settings.topic, window: settings.window }),
};
const packer = new EventPacker();

parentPort!.on('message', (request: DecodeRequest) => {
  options.nowMs = request.nowMs;
  const { ends } = request;
  // A Buffer over the received bytes, so each message's subarray is one too (decodeMessage wraps plain arrays).
  const bytes = Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength);
  const results = new Array(ends.length);
  let start = 0;
  for (let index = 0; index < ends.length; index += 1) {
    const end = ends[index]!;
    results[index] = decodeMessage(bytes.subarray(start, end), options);
    start = end;
  }
  const chunk = packer.pack(results);
  parentPort!.postMessage({ id: request.id, chunk }, transferablesOf(chunk));
});
