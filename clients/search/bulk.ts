// Pure halves of bulk indexing: the NDJSON lines of a `_bulk` request and the reading of its
// per-item answer into outcomes, including which failures are worth another attempt.
import type { IndexedDocument } from './document.js';

export interface DocumentFailure {
  statusCode: number;
  type: string;
  reason: string;
  /** True for overload (429) and server-side (5xx) failures: the same document may succeed later. */
  retryable: boolean;
}

export type DocumentOutcome =
  | { id: string; index: string; status: 'indexed'; attempts: number }
  | { id: string; index: string; status: 'failed'; attempts: number; error: DocumentFailure };

export interface BulkResult {
  indexed: number;
  failed: number;
  /** One outcome per input document, in input order. */
  outcomes: DocumentOutcome[];
  /** `_bulk` requests sent, retries included. */
  requests: number;
}

/** Overload and server-side trouble: worth retrying. Anything else (a 400 mapping error) fails the same way again. */
export function isRetryableStatus(statusCode: number): boolean {
  return statusCode === 429 || statusCode >= 500;
}

/** Two NDJSON lines per document: `index` (create or overwrite, so replays never duplicate) and the source. */
export function bulkLines(documents: readonly IndexedDocument[]): unknown[] {
  return documents.flatMap((document) => [{ index: { _index: document.index, _id: document.id } }, document.document]);
}

interface BulkItemAnswer {
  status?: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } } | string;
}

/** Per-item answer of a `_bulk` response: undefined for success, else the failure. */
export function readBulkItems(responseBody: unknown, expectedCount: number): Array<DocumentFailure | undefined> {
  const items = (responseBody as { items?: unknown[] } | null)?.items;
  if (!Array.isArray(items) || items.length !== expectedCount) {
    throw new Error(`_bulk answered ${Array.isArray(items) ? items.length : 'no'} items for ${expectedCount} documents`);
  }
  return items.map((item) => {
    const answer = Object.values(item as Record<string, BulkItemAnswer>)[0] ?? {};
    const statusCode = answer.status ?? 0;
    if (statusCode >= 200 && statusCode < 300 && !answer.error) return undefined;
    const error = answer.error;
    let type = 'error';
    let reason = `status ${statusCode}`;
    if (typeof error === 'string') {
      reason = error;
    } else if (error) {
      type = error.type ?? type;
      reason = error.reason ?? reason;
      // "failed to parse field [x]" alone hides the why; the cause says e.g. `For input string: "abc"`.
      if (error.caused_by?.reason) reason = `${reason}: ${error.caused_by.reason}`;
    }
    return { statusCode, type, reason, retryable: isRetryableStatus(statusCode) };
  });
}

/** Delay before attempt number `attempt` (2, 3, …): exponential, capped. */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs = 5000): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 2));
}
