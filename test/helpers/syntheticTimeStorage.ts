// A Storage wrapper for fast-forwarded runs (the soak benchmark, long-log tests): every file written
// through it carries the synthetic clock's time — set on the file itself on local disk (utimes), so
// log cleanup and VACUUM read it from the OS as in production; remembered and put into listings on
// an object store, whose times cannot be set — and it counts the calls made through it.
import { utimes } from 'node:fs/promises';
import type { ListOptions, Storage, StoredFile } from '../../clients/delta/storage.js';

export type StorageOperation = 'list' | 'listFolders' | 'read' | 'readRange' | 'putIfAbsent' | 'put' | 'delete' | 'stat';

export class SyntheticTimeStorage implements Storage {
  /** Calls per operation since the last resetCalls(). */
  readonly calls: Record<StorageOperation, number> = {
    list: 0,
    listFolders: 0,
    read: 0,
    readRange: 0,
    putIfAbsent: 0,
    put: 0,
    delete: 0,
    stat: 0,
  };
  /** "operation path" of every call since the last resetCalls(), when `trace` is on. */
  readonly trace: string[] = [];
  tracing = false;
  /** Bytes written by put() to paths matching `.checkpoint.` (checkpoints), and how many. */
  readonly checkpoints = { written: 0, bytes: 0 };
  private readonly times = new Map<string, number>();
  private readonly local: boolean;
  /** The file's local path, when the inner storage has one (DuckDB and utimes need it). */
  readonly localPath?: (path: string) => string;

  constructor(
    readonly inner: Storage,
    private readonly clock: () => number,
  ) {
    this.local = typeof inner.localPath === 'function';
    if (inner.localPath) this.localPath = (path) => inner.localPath!(path);
  }

  get location(): string {
    return this.inner.location;
  }

  get listsFromStartKey(): boolean | undefined {
    return this.inner.listsFromStartKey;
  }

  resetCalls(): void {
    for (const key of Object.keys(this.calls) as StorageOperation[]) this.calls[key] = 0;
    this.trace.length = 0;
  }

  private count(operation: StorageOperation, path: string): void {
    this.calls[operation]++;
    if (this.tracing) this.trace.push(`${operation} ${path}`);
  }

  private async stamp(path: string): Promise<void> {
    const ms = this.clock();
    if (this.local) await utimes(this.inner.localPath!(path), ms / 1000, ms / 1000);
    else this.times.set(path, ms);
  }

  private retimed(file: StoredFile): StoredFile {
    if (this.local) return file;
    const ms = this.times.get(file.path);
    return ms === undefined ? file : { ...file, modifiedMs: ms };
  }

  async list(prefix: string, options?: ListOptions): Promise<StoredFile[]> {
    this.count('list', options?.startAfter ? `${prefix} after ${options.startAfter}` : prefix);
    const files = await this.inner.list(prefix, options);
    return this.local ? files : files.map((file) => this.retimed(file));
  }

  listFolders(folder: string): Promise<string[]> {
    this.count('listFolders', folder);
    return this.inner.listFolders(folder);
  }

  read(path: string): Promise<Uint8Array> {
    this.count('read', path);
    return this.inner.read(path);
  }

  readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    this.count('readRange', path);
    return this.inner.readRange(path, start, end);
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    this.count('putIfAbsent', path);
    const written = await this.inner.putIfAbsent(path, data);
    if (written) await this.stamp(path);
    return written;
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    this.count('put', path);
    await this.inner.put(path, data);
    await this.stamp(path);
    if (path.includes('.checkpoint.')) {
      this.checkpoints.written++;
      this.checkpoints.bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    }
  }

  async delete(path: string): Promise<void> {
    this.count('delete', path);
    await this.inner.delete(path);
    this.times.delete(path);
  }

  async stat(path: string): Promise<StoredFile | undefined> {
    this.count('stat', path);
    const file = await this.inner.stat(path);
    return file && this.retimed(file);
  }

  async verify(): Promise<void> {
    await this.inner.verify?.();
  }
}
