// A batch's Delta commits in the order exactly-once needs, on whichever thread holds the tables (the
// writer thread, or the caller's): every append's files are written at once, then the appends are
// committed step by step, a step's appends together and the next step only when every one of them
// committed. Failures come back per append, not as a rejection.
import type { Table } from 'apache-arrow';
import type { DeltaTable, StagedAppend, TxnRequest } from '../clients/delta/index.js';

export interface StepAppend {
  table: DeltaTable;
  rows: Table;
  txns: TxnRequest[];
  operation: string;
}

export type StepResult =
  | { kind: 'committed'; tableVersion: number; durationMs: number }
  | { kind: 'refused'; refused: Array<{ appId: string; committedVersion: number; reason: 'already-committed' | 'moved' }> }
  | { kind: 'failed'; error: { name: string; message: string } }
  | { kind: 'skipped' };

interface Staged {
  append: StepAppend;
  staged: StagedAppend;
  startedMs: number;
}

const failure = (error: Error): StepResult => ({ kind: 'failed', error: { name: error.name, message: error.message } });

/** The appends may still be arriving (the writer thread opens tables first): a rejected one is a failed result. */
export async function commitSteps(steps: readonly (readonly Promise<StepAppend>[])[]): Promise<StepResult[][]> {
  const stage = async (pending: Promise<StepAppend>): Promise<Staged> => {
    const startedMs = performance.now();
    const append = await pending;
    return { append, staged: await append.table.stageAppend(append.rows), startedMs };
  };
  const staging = steps.map((step) => step.map((pending) => stage(pending).then((staged): Staged | StepResult => staged, failure)));
  const results: StepResult[][] = [];
  let proceed = true;
  for (const step of staging) {
    if (!proceed) {
      // A later step must not land before an earlier one: its files go, the caller retries it.
      results.push(await Promise.all(step.map(async (pending) => discard(await pending))));
      continue;
    }
    const stepResults = await Promise.all(step.map(async (pending) => commitStaged(await pending)));
    results.push(stepResults);
    proceed = stepResults.every((result) => result.kind === 'committed');
  }
  return results;
}

async function discard(staged: Staged | StepResult): Promise<StepResult> {
  if ('staged' in staged) await staged.append.table.discardStaged(staged.staged);
  return { kind: 'skipped' };
}

async function commitStaged(staged: Staged | StepResult): Promise<StepResult> {
  if (!('staged' in staged)) return staged;
  const { append, startedMs } = staged;
  try {
    const outcome = await append.table.commitStaged(staged.staged, { txns: append.txns, operation: append.operation });
    if (outcome.status === 'refused') return { kind: 'refused', refused: outcome.refused };
    return { kind: 'committed', tableVersion: outcome.version, durationMs: performance.now() - startedMs };
  } catch (error) {
    // The commit may have landed with only its reply lost (an object store's PUT): its files must
    // stay. If it did not land they are unreferenced, and VACUUM removes them.
    return failure(error as Error);
  }
}
