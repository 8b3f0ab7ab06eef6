// The pid file a started service leaves behind, and the check that a pid still belongs to
// the process the stack started (pids are recycled, so a bare pid is never enough to kill).

export interface PidRecord {
  pid: number;
  /** argv the process was started with; /proc/<pid>/cmdline must still show it… */
  command: string[];
  /** …or this title, for programs that rename themselves (nginx: "nginx: master process …"). */
  title?: string;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22), when it could be read. */
  startTicks?: number;
  startedAt: string;
}

/** What /proc shows about a pid right now; undefined fields mean "could not read" (gone or not Linux). */
export interface ObservedProcess {
  /** Raw /proc/<pid>/cmdline: arguments separated (and usually terminated) by NUL. */
  cmdline?: string;
  startTicks?: number;
}

export function formatPidRecord(record: PidRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Parses a pid file; undefined for anything that is not a record this stack wrote. */
export function parsePidRecord(text: string): PidRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const candidate = value as Partial<PidRecord>;
  if (!Number.isInteger(candidate.pid) || (candidate.pid as number) <= 1) return undefined;
  if (!Array.isArray(candidate.command) || candidate.command.length === 0 || !candidate.command.every((part) => typeof part === 'string')) {
    return undefined;
  }
  if (candidate.startTicks !== undefined && !Number.isInteger(candidate.startTicks)) return undefined;
  if (candidate.title !== undefined && typeof candidate.title !== 'string') return undefined;
  return {
    pid: candidate.pid as number,
    command: candidate.command,
    ...(candidate.title === undefined ? {} : { title: candidate.title }),
    startTicks: candidate.startTicks,
    startedAt: typeof candidate.startedAt === 'string' ? candidate.startedAt : '',
  };
}

/** Splits /proc/<pid>/cmdline into its arguments. */
export function parseCmdline(cmdline: string): string[] {
  const parts = cmdline.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Field 22 (starttime) of /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so parse after the last ")". */
export function parseStartTicks(statText: string): number | undefined {
  const end = statText.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = statText
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const ticks = Number(fields[19]);
  return Number.isInteger(ticks) ? ticks : undefined;
}

/**
 * True only when the observed process is the one the record describes: same argv and,
 * when both are known, the same start time. Anything unreadable counts as "not ours".
 */
export function isSameProcess(record: PidRecord, observed: ObservedProcess): boolean {
  if (observed.cmdline === undefined) return false;
  const argv = parseCmdline(observed.cmdline);
  const sameArgv = argv.length === record.command.length && argv.every((part, index) => part === record.command[index]);
  // A retitled process pads the rest of its old argv area with NULs.
  const sameTitle = record.title !== undefined && observed.cmdline.replace(/\0+$/, '') === record.title;
  if (!sameArgv && !sameTitle) return false;
  if (record.startTicks !== undefined && observed.startTicks !== undefined && record.startTicks !== observed.startTicks) return false;
  return true;
}
