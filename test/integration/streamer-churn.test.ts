// Exactly once under consumer-group churn: three `logstream stream` processes share a group, a
// 6-partition topic and a lakehouse while 300,000 logs are produced; four rounds of a streamer frozen
// past the session timeout, one SIGKILLed and restarted, one joining and leaving. delta-rs counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CHURN, runChurn } from '../helpers/churn.js';
import { requireService } from '../helpers/stack.js';

test('300,000 logs through freezes, kills, joins and leaves: every offset exactly once in Delta and search', {
  timeout: 900_000,
}, async () => {
  const config = await requireService('kafka');
  await requireService('opensearch', config).catch(async () => requireService('elasticsearch', config));
  const report = await runChurn(config, DEFAULT_CHURN);
  const story = report.events.join('\n');
  assert.equal(report.offsets, DEFAULT_CHURN.logs, story);
  assert.equal(report.duplicates, 0, `duplicated rows\n${story}`);
  assert.equal(report.gaps, 0, `offsets in neither logs nor quarantine\n${story}`);
  assert.equal(report.overlap, 0, 'no offset in both logs and quarantine');
  assert.equal(report.logsRows + report.quarantineRows, report.offsets);
  assert.ok(report.quarantineRows > 0, 'bad messages were part of the stream');
  assert.equal(report.anomaliesMismatch, 0, 'anomalies are exactly the flagged logs rows');
  assert.equal(report.searchDocuments, report.logsRows, 'the search index holds the same count');
});
