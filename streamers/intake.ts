// Intake: turns fetched Kafka messages into the rows of a batch. Decodes each message (bad ones keep
// their reason for the dead-letter path), scores the good ones in one call, and returns them in
// offset order. Holds no position: which messages to take is the ledger's decision.
import type { ConsumedMessage } from '../clients/kafka/index.js';
import { decodeMessage, type DecodeOptions } from '../logs/decode.js';
import { unpackedResults, type UnpackedChunk } from '../logs/packedEvents.js';
import type { ClientWindow } from '../ml/clientWindow.js';
import type { Scorer } from '../ml/scorer.js';
import type { Accepted } from './batch.js';
import type { ScoredRecord } from './sinks.js';

export interface IntakeResult {
  rows: Accepted[];
  good: ScoredRecord[];
  anomalies: ScoredRecord[];
}

export interface IntakeContext {
  topic: string;
  partition: number;
  decode: Omit<DecodeOptions, 'nowMs'>;
  /** Undefined while the pipeline has no model for the site (learning): verdicts are left absent. */
  scorer: Scorer | undefined;
  clientWindow: ClientWindow;
  nowMs: number;
}

/** Decodes messages on this thread, read as the decode thread's chunks are. */
export function decodeHere(messages: readonly ConsumedMessage[], decode: IntakeContext['decode'], nowMs: number): UnpackedChunk {
  const options: DecodeOptions = { ...decode, nowMs };
  return unpackedResults(messages.map((message) => decodeMessage(message.value, options)));
}

/** Decodes the messages here and takes them. */
export function takeMessages(messages: readonly ConsumedMessage[], context: IntakeContext): Promise<IntakeResult> {
  return takeDecoded(messages, decodeHere(messages, context.decode, context.nowMs), undefined, context);
}

/**
 * Takes messages already decoded (by the decode thread, or here): message i's result is
 * `decoded`'s at `indices[i]`, or at i when no indices are given.
 */
export async function takeDecoded(
  messages: readonly ConsumedMessage[],
  decoded: UnpackedChunk,
  indices: readonly number[] | undefined,
  context: Omit<IntakeContext, 'decode'>,
): Promise<IntakeResult> {
  const { topic, partition, nowMs } = context;
  const good: ScoredRecord[] = [];
  const rows: Accepted[] = [];
  for (let position = 0; position < messages.length; position += 1) {
    const message = messages[position]!;
    const index = indices ? indices[position]! : position;
    const rejection = decoded.rejection(index);
    if (rejection === undefined) {
      // A new object of the record's whole shape: completing the decoded event in place would grow
      // its property store field by field (the largest allocation of intake, measured).
      const event = decoded.event(index);
      good.push({
        timestampMs: event.timestampMs,
        clientIp: event.clientIp,
        method: event.method,
        path: event.path,
        query: event.query,
        pathTemplate: event.pathTemplate,
        status: event.status,
        responseTimeMs: event.responseTimeMs,
        responseBytes: event.responseBytes,
        referrer: event.referrer,
        userAgent: event.userAgent,
        label: event.label,
        topic,
        partition,
        offset: message.offset,
        kafkaTimestampMs: message.timestampMs,
        ingestTimeMs: nowMs,
        anomalyScore: null,
        isAnomaly: null,
        cluster: null,
        modelVersion: null,
        reasons: NO_REASONS,
      });
    } else {
      rows.push({
        topic,
        partition,
        offset: message.offset,
        kafkaTimestampMs: message.timestampMs,
        ingestTimeMs: nowMs,
        value: message.value,
        rejection,
      });
    }
  }
  const anomalies: ScoredRecord[] = [];
  if (!context.scorer) {
    // Learning: the verdict stays absent.
    for (const record of good) rows.push(record);
    if (rows.length !== good.length) rows.sort(byOffset);
    return { rows, good, anomalies };
  }
  if (good.length) {
    const verdicts = await context.scorer.score(good, context.clientWindow);
    for (let index = 0; index < good.length; index += 1) {
      const record = good[index]!;
      record.anomalyScore = verdicts.scores[index]!;
      record.isAnomaly = verdicts.anomalous[index] === 1;
      record.cluster = verdicts.clusters[index]!;
      record.modelVersion = verdicts.modelVersion;
      if (record.isAnomaly) {
        const reasons = verdicts.reasons.get(index);
        if (reasons?.length) record.reasons = reasons.map((reason) => reason.feature);
        anomalies.push(record);
      }
      rows.push(record);
    }
  }
  if (rows.length !== good.length) rows.sort(byOffset);
  return { rows, good, anomalies };
}

/** The reasons of every normal row: one shared empty list (records are never mutated after intake). */
const NO_REASONS: string[] = [];

const byOffset = (left: Accepted, right: Accepted) => (left.offset < right.offset ? -1 : left.offset > right.offset ? 1 : 0);
