// Where a table's bytes live. The engine reaches storage only through this interface, so object
// stores with conditional writes (S3 If-None-Match, GCS, Azure) can follow the local filesystem.
import { randomUUID } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export interface StoredFile {
  /** Path relative to the storage root, '/'-separated. */
  path: string;
  sizeBytes: number;
  modifiedMs: number;
}

export interface ListOptions {
  recursive?: boolean;
  /** Default true. */
  withMetadata?: boolean;
  /**
   * Only paths that sort after this one (UTF-8 byte order, like S3's StartAfter): the log from a
   * version is `startAfter: '_delta_log/<20-digit version>'`, since that prefix sorts before its files.
   */
  startAfter?: string;
}

export interface Storage {
  /** Where the files are, for messages: an absolute folder or s3://bucket/prefix. */
  readonly location: string;
  /**
   * True when list() with `startAfter` costs what it returns (an object store's sorted, paged
   * listing), so the log's tail is found by listing from the checkpoint; false or absent when it
   * reads every name in the folder (a local directory), so the tail is read forward by name instead.
   */
  readonly listsFromStartKey?: boolean;
  /**
   * Files whose path starts with `prefix` (up to its last '/', the folder; `recursive` descends), sorted by path.
   * With `withMetadata: false` sizes and times may be left out (NaN), which saves a stat per file.
   */
  list(prefix: string, options?: ListOptions): Promise<StoredFile[]>;
  /** Names of the folders directly under `folder` ('' or ending in '/'), sorted: finding the tables of a lakehouse. */
  listFolders(folder: string): Promise<string[]>;
  /** The whole file; rejects with a NotFound-coded error when absent. */
  read(path: string): Promise<Uint8Array>;
  /** Bytes [start, end) of a file (Parquet footers and column chunks); NotFound-coded error when absent. */
  readRange(path: string, start: number, end: number): Promise<Uint8Array>;
  /** Writes the file only if no file exists at path, atomically (complete or absent). Returns false when it existed. */
  putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean>;
  /** Writes (or replaces) a file that no reader sees until a commit names it (data files, checkpoints). */
  put(path: string, data: Uint8Array | string): Promise<void>;
  delete(path: string): Promise<void>;
  stat(path: string): Promise<StoredFile | undefined>;
  /**
   * Checks, once per store and process, that the store keeps the contract putIfAbsent relies on
   * (S3: a second conditional PUT of the same key is refused). Tables call it when they open.
   */
  verify?(): Promise<void>;
  /** The file's path on the local filesystem, when it has one (DuckDB reads such files itself). */
  localPath?(path: string): string;
}

/** Path order of object stores: UTF-8 bytes (JavaScript's < compares UTF-16 code units). */
export function compareStoragePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The local filesystem. putIfAbsent writes a hidden temp file, fsyncs it, then link()s it: link fails with EEXIST when the target exists. */
export class LocalStorage implements Storage {
  readonly location: string;

  constructor(readonly root: string) {
    this.location = root;
  }

  localPath(path: string): string {
    return this.full(path);
  }

  private full(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredFile[]> {
    const slash = prefix.lastIndexOf('/');
    const folder = slash >= 0 ? prefix.slice(0, slash) : '';
    const namePrefix = prefix.slice(slash + 1);
    const files: StoredFile[] = [];
    const walk = { recursive: options.recursive ?? false, withMetadata: options.withMetadata ?? true, startAfter: options.startAfter };
    await this.walk(this.full(folder), namePrefix, walk, files);
    files.sort((a, b) => compareStoragePaths(a.path, b.path));
    return files;
  }

  async listFolders(folder: string): Promise<string[]> {
    try {
      const entries = await readdir(this.full(folder.replace(/\/$/, '')), { withFileTypes: true });
      return entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort(compareStoragePaths);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  }

  private async walk(
    dir: string,
    namePrefix: string,
    options: { recursive: boolean; withMetadata: boolean; startAfter?: string },
    out: StoredFile[],
  ): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    await Promise.all(
      entries.map(async (entry) => {
        if (namePrefix && !entry.name.startsWith(namePrefix)) return;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (options.recursive) await this.walk(full, '', options, out);
          return;
        }
        const path = relative(this.root, full).split(sep).join('/');
        // Filtered before the stat, so listing the log from a version skips the stats of older files.
        if (options.startAfter !== undefined && compareStoragePaths(path, options.startAfter) <= 0) return;
        if (!options.withMetadata) {
          out.push({ path, sizeBytes: Number.NaN, modifiedMs: Number.NaN });
          return;
        }
        try {
          const info = await stat(full);
          out.push({ path, sizeBytes: info.size, modifiedMs: info.mtimeMs });
        } catch (error) {
          if (!isNotFound(error)) throw error; // deleted while listing
        }
      }),
    );
  }

  async read(path: string): Promise<Uint8Array> {
    return readFile(this.full(path));
  }

  async readRange(path: string, start: number, end: number): Promise<Uint8Array> {
    const handle = await open(this.full(path), 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, end - start));
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean> {
    const target = this.full(path);
    await ensureDirectory(dirname(target));
    const temp = join(dirname(target), `.tmp-${randomUUID()}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, target);
      // The commit is visible once its name is in the directory: make the name durable too.
      await syncDirectory(dirname(target));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async put(path: string, data: Uint8Array | string): Promise<void> {
    // temp + rename: a reader listing the folder never sees a half-written checkpoint. Synced before
    // the rename and the folder after it, so a commit naming the file never outlives its bytes.
    const target = this.full(path);
    await ensureDirectory(dirname(target));
    const temp = join(dirname(target), `.tmp-${randomUUID()}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    await syncDirectory(dirname(target));
  }

  async delete(path: string): Promise<void> {
    await rm(this.full(path), { force: true });
  }

  async stat(path: string): Promise<StoredFile | undefined> {
    try {
      const info = await stat(this.full(path));
      return info.isFile() ? { path, sizeBytes: info.size, modifiedMs: info.mtimeMs } : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** mkdir -p whose new folders are durable: the entry of each folder created is synced in its parent. */
async function ensureDirectory(path: string): Promise<void> {
  const created = await mkdir(path, { recursive: true });
  if (created === undefined) return;
  for (let folder = path; ; folder = dirname(folder)) {
    await syncDirectory(dirname(folder));
    if (folder === created || dirname(folder) === folder) break;
  }
}

/** fsync of a directory: makes the names created in it (link, rename) survive a power loss. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
