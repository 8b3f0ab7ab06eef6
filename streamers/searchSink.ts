// The search engine as a streamer sink: clients/search bulk indexing with deterministic ids
// (topic-partition-offset), so a batch indexed twice overwrites its documents.
import { toIndexedDocument, type SearchClient } from '../clients/search/index.js';
import type { ScoredRecord, SearchSink } from './sinks.js';

export class SearchIndexingError extends Error {}

export function createSearchSink(client: SearchClient): SearchSink {
  return {
    indexPrefix: client.indexPrefix,
    async index(records: readonly ScoredRecord[]): Promise<void> {
      if (records.length === 0) return;
      // A record not scored yet (the pipeline is learning) has no anomaly object: absent, not normal.
      const documents = records.map((record) =>
        toIndexedDocument(
          client.indexPrefix,
          record,
          record.anomalyScore === null || record.isAnomaly === null || record.modelVersion === null
            ? undefined
            : { score: record.anomalyScore, isAnomaly: record.isAnomaly, cluster: record.cluster ?? -1, modelVersion: record.modelVersion },
        ),
      );
      const result = await client.bulkIndex(documents);
      const retryable = result.outcomes.filter((outcome) => outcome.status === 'failed' && outcome.error.retryable);
      // Documents the engine refuses for good (mapping errors) would fail forever: counted, not retried.
      if (retryable.length) throw new SearchIndexingError(`${retryable.length} of ${records.length} documents failed and will be retried`);
    },
  };
}
