// Which local TCP ports are listening and who holds them, read from /proc/net/tcp{,6}.
// The parsing is pure; portHolder() is the thin I/O shell around it.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

const LISTEN_STATE = '0A';

export interface ListeningSocket {
  port: number;
  inode: number;
}

/** Listening sockets from the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseListeningSockets(procNetTcp: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN_STATE) continue;
    const localAddress = fields[1]!;
    const port = Number.parseInt(localAddress.slice(localAddress.lastIndexOf(':') + 1), 16);
    const inode = Number(fields[9]);
    if (Number.isInteger(port) && Number.isInteger(inode)) sockets.push({ port, inode });
  }
  return sockets;
}

/** The socket inode behind a /proc/<pid>/fd/<n> link target such as "socket:[12345]". */
export function socketInode(linkTarget: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return match ? Number(match[1]) : undefined;
}

/** "pid 123 (java -cp …)": a short human description of a process. */
export function describeProcess(pid: number, cmdline: string | undefined): string {
  if (!cmdline) return `pid ${pid}`;
  const text = cmdline.split('\0').filter(Boolean).join(' ');
  return `pid ${pid} (${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function listeningInodes(port: number): Set<number> | undefined {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map(readText).filter((text): text is string => text !== undefined);
  if (tables.length === 0) return undefined;
  return new Set(
    tables
      .flatMap(parseListeningSockets)
      .filter((socket) => socket.port === port)
      .map((socket) => socket.inode),
  );
}

/** True when something accepts connections on 127.0.0.1:port (or listens on the port on any address, per /proc). */
export async function isPortInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  const inodes = listeningInodes(port);
  if (inodes && inodes.size > 0) return true;
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (inUse: boolean) => {
      socket.destroy();
      resolve(inUse);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Describes the process listening on the port ("pid 42 (prometheus …)"), or undefined when it cannot be told. */
export function portHolder(port: number): string | undefined {
  const inodes = listeningInodes(port);
  if (!inodes || inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = socketInode(target);
      if (inode !== undefined && inodes.has(inode)) return describeProcess(Number(pid), readText(`/proc/${pid}/cmdline`));
    }
  }
  return 'a process this user cannot inspect';
}

/** The port of "host:port" (the first entry of a comma-separated list). */
export function portOf(hostPort: string): number {
  const first = hostPort.split(',')[0]!.trim();
  return Number(first.slice(first.lastIndexOf(':') + 1));
}

/** The host of "host:port" (the first entry of a comma-separated list). */
export function hostOf(hostPort: string): string {
  const first = hostPort.split(',')[0]!.trim();
  return first.slice(0, first.lastIndexOf(':'));
}

/** The port of an http(s) URL, with the scheme's default when none is written. */
export function urlPort(url: string): number {
  const parsed = new URL(url);
  if (parsed.port) return Number(parsed.port);
  return parsed.protocol === 'https:' ? 443 : 80;
}
