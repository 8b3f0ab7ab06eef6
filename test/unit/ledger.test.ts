// Where a partition stands: which fetched batches intake may take, and what a batch continues from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionLedger } from '../../streamers/ledger.js';

const versions = (logs: bigint) => ({ logs, quarantine: logs, anomalies: logs, metrics: logs });

describe('PartitionLedger', () => {
  it('takes a fetch that continues what intake covered, or overlaps it, from the next offset', () => {
    const ledger = new PartitionLedger();
    assert.equal(ledger.resync(0, versions(41n)), 42n);
    assert.deepEqual(ledger.admit(ledger.tagFetch(0, false), 42n), { kind: 'take', from: 42n });
    // kafkajs fetches again from the group offset after a rejoin: the overlap is skipped.
    assert.deepEqual(ledger.admit(ledger.tagFetch(0, false), 10n), { kind: 'take', from: 42n });
    ledger.covered(0, 99n);
    assert.deepEqual(ledger.admit(ledger.tagFetch(0, false), 100n), { kind: 'take', from: 100n });
    assert.deepEqual(ledger.admit(ledger.tagFetch(1, false), 0n), { kind: 'drop' }, 'not owned');
  });

  it('drops fetches from before a resync or a seek, and those Kafka marked stale on arrival', () => {
    const ledger = new PartitionLedger();
    ledger.resync(0, versions(41n));
    const before = ledger.tagFetch(0, false);
    ledger.resync(0, versions(299n));
    assert.deepEqual(ledger.admit(before, 42n), { kind: 'drop' }, 'read ahead before the resync');
    const beforeSeek = ledger.tagFetch(0, false);
    ledger.seek(0);
    assert.deepEqual(ledger.admit(beforeSeek, 300n), { kind: 'drop' });
    assert.deepEqual(ledger.admit(ledger.tagFetch(0, true), 300n), { kind: 'drop' }, 'stale on arrival');
  });

  it('seeks back once over a gap, and believes the gap when the fetch after that seek starts past it', () => {
    const ledger = new PartitionLedger();
    ledger.resync(0, versions(99n));
    assert.deepEqual(ledger.admit(ledger.tagFetch(0, false), 500n), { kind: 'reseek', offset: 100n });
    const afterSeek = ledger.tagFetch(0, false);
    assert.deepEqual(ledger.admit(afterSeek, 500n), { kind: 'take', from: 500n, gap: { from: 100n, to: 499n } });
  });

  it('cuts batches that continue one from another, and tells a live range from a void one', () => {
    const ledger = new PartitionLedger();
    ledger.resync(0, versions(-1n));
    const first = ledger.cut(0, 99n);
    const second = ledger.cut(0, 199n);
    assert.deepEqual([first.base, first.last, second.base, second.last], [-1n, 99n, 99n, 199n]);
    assert.equal(ledger.isLive(0, first), true);
    assert.equal(ledger.isLive(0, second), false, 'continues from 99, which the table does not hold yet');
    ledger.recordCommit(0, 'logs', 99n, first.generation);
    assert.equal(ledger.isLive(0, second), true);
    ledger.resync(0, versions(149n));
    assert.equal(ledger.isLive(0, second), false, 'taken before the resync');
    ledger.recordCommit(0, 'logs', 199n, second.generation);
    assert.equal(ledger.committed(0, 'logs'), 149n, 'a commit of a void generation moves nothing');
  });
});
