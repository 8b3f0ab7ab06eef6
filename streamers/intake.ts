// Intake: turns fetched Kafka messages into the rows of a batch. Decodes each message (bad ones keep
// their reason for the dead-letter path), scores the good ones in one call, and returns them in
// offset order. Holds no position: which messages to take is the ledger's decision.
import type { ConsumedMessage } from '../clients/kafka/index.js';
import { decodeMessage, type DecodeOptions } from '../logs/decode.js';
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

export async function takeMessages(messages: readonly ConsumedMessage[], context: IntakeContext): Promise<IntakeResult> {
  const { topic, partition, nowMs } = context;
  const good: ScoredRecord[] = [];
  const rows: Accepted[] = [];
  const decodeOptions: DecodeOptions = { ...context.decode, nowMs };
  for (const message of messages) {
    const decoded = decodeMessage(message.value, decodeOptions);
    if (decoded.ok) {
      // One object per record, completed in place with its score below.
      const record = decoded.event as ScoredRecord;
      record.topic = topic;
      record.partition = partition;
      record.offset = message.offset;
      record.kafkaTimestampMs = message.timestampMs;
      record.ingestTimeMs = nowMs;
      good.push(record);
    } else {
      rows.push({
        kind: 'bad',
        partition,
        offset: message.offset,
        message: {
          topic,
          partition,
          offset: message.offset,
          kafkaTimestampMs: message.timestampMs,
          ingestTimeMs: nowMs,
          value: message.value,
          rejection: decoded.rejection,
        },
      });
    }
  }
  const anomalies: ScoredRecord[] = [];
  if (!context.scorer) {
    for (const record of good) {
      record.anomalyScore = null;
      record.isAnomaly = null;
      record.cluster = null;
      record.modelVersion = null;
      record.reasons = [];
      rows.push({ kind: 'good', partition, offset: record.offset, record });
    }
    if (rows.length !== good.length) rows.sort(byOffset);
    return { rows, good, anomalies };
  }
  const scores = good.length ? await context.scorer.score(good, context.clientWindow) : [];
  good.forEach((record, index) => {
    const score = scores[index]!;
    record.anomalyScore = score.score;
    record.isAnomaly = score.isAnomaly;
    record.cluster = score.cluster;
    record.modelVersion = score.modelVersion;
    record.reasons = score.reasons ? score.reasons.map((reason) => reason.feature) : [];
    if (record.isAnomaly) anomalies.push(record);
    rows.push({ kind: 'good', partition, offset: record.offset, record });
  });
  if (rows.length !== good.length) rows.sort(byOffset);
  return { rows, good, anomalies };
}

const byOffset = (left: Accepted, right: Accepted) => (left.offset < right.offset ? -1 : left.offset > right.offset ? 1 : 0);
