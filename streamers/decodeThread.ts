// The main-thread side of the decode thread (streamers/decodeWorker.ts): a fetch's messages go over
// in chunks as one byte buffer each (transferred, not copied) and come back decoded and packed,
// read through logs/packedEvents.ts. Chunks are answered in the order they were sent, which the
// unpacker's symbols rely on.
import type { ConsumedMessage } from '../clients/kafka/index.js';
import type { DecodeSettings } from '../logs/decoder.js';
import { EventUnpacker, type PackedChunk, type UnpackedChunk } from '../logs/packedEvents.js';
import { ThreadRequests } from './threadRequests.js';

/** The thread's own bundle, defined when the sources run bundled (bin/sourceBundle.mjs). */
declare const LOGSTREAM_DECODE_WORKER_BUNDLE: string | undefined;
const WORKER_ENTRY =
  typeof LOGSTREAM_DECODE_WORKER_BUNDLE === 'string'
    ? new URL(LOGSTREAM_DECODE_WORKER_BUNDLE)
    : // From the sources: worker threads do not inherit tsx, so the boot file registers it.
      new URL('./decodeWorker.boot.mjs', import.meta.url);

/** What the thread decodes with: the configuration's decode section for the topic, as the main thread's decoder. */
export interface DecodeThreadSettings {
  decode: DecodeSettings;
  topic: string;
  window: boolean;
  maxMessageBytes: number;
}

export interface DecodeRequest {
  id: number;
  nowMs: number;
  /** The chunk's message values one after another; `ends[i]` is where message i ends. */
  bytes: Uint8Array;
  ends: Uint32Array;
}

interface DecodeResponse {
  id: number;
  chunk: PackedChunk;
}

export class DecodeThread {
  private unpacker = new EventUnpacker();
  private readonly thread: ThreadRequests<DecodeRequest, DecodeResponse>;

  constructor(settings: DecodeThreadSettings) {
    // A new thread numbers its symbols from the start.
    this.thread = new ThreadRequests(WORKER_ENTRY, 'the decode thread', settings, () => {
      this.unpacker = new EventUnpacker();
    });
  }

  /** Decodes messages on the thread, as decodeMessage would here with `nowMs` as the ingest time. */
  async decode(messages: readonly ConsumedMessage[], nowMs: number): Promise<UnpackedChunk> {
    const ends = new Uint32Array(messages.length);
    let length = 0;
    for (let index = 0; index < messages.length; index += 1) {
      length += messages[index]!.value?.length ?? 0;
      ends[index] = length;
    }
    // Not Buffer.concat: a small result may be a slice of Node's shared pool, whose whole buffer
    // would then be transferred away.
    const bytes = new Uint8Array(length);
    for (let index = 0; index < messages.length; index += 1) {
      const value = messages[index]!.value;
      if (value) bytes.set(value, index === 0 ? 0 : ends[index - 1]!);
    }
    const answer = this.thread.request({ nowMs, bytes, ends }, [bytes.buffer, ends.buffer]);
    // Taken after the request, which may have started a new thread (and unpacker). Answers resolve
    // in the order they were sent, so the chunks reach the unpacker in order too.
    const unpacker = this.unpacker;
    return unpacker.receive((await answer).chunk);
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}
