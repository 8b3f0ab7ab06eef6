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
}

export interface Storage {
  /**
   * Files whose path starts with `prefix` (up to its last '/', the folder; `recursive` descends), sorted by path.
   * With `withMetadata: false` sizes and times may be left out (NaN), which saves a stat per file.
   */
  list(prefix: string, options?: ListOptions): Promise<StoredFile[]>;
  /** The whole file; rejects with a NotFound-coded error when absent. */
  read(path: string): Promise<Uint8Array>;
  /** Writes the file only if no file exists at path, atomically (complete or absent). Returns false when it existed. */
  putIfAbsent(path: string, data: Uint8Array | string): Promise<boolean>;
  /** Writes (or replaces) a file that no reader sees until a commit names it (data files, checkpoints). */
  put(path: string, data: Uint8Array | string): Promise<void>;
  delete(path: string): Promise<void>;
  stat(path: string): Promise<StoredFile | undefined>;
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** The local filesystem. putIfAbsent writes a hidden temp file, fsyncs it, then link()s it: link fails with EEXIST when the target exists. */
export class LocalStorage implements Storage {
  constructor(readonly root: string) {}

  private full(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredFile[]> {
    const slash = prefix.lastIndexOf('/');
    const folder = slash >= 0 ? prefix.slice(0, slash) : '';
    const namePrefix = prefix.slice(slash + 1);
    const files: StoredFile[] = [];
    await this.walk(this.full(folder), namePrefix, options.recursive ?? false, options.withMetadata ?? true, files);
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return files;
  }

  private async walk(dir: string, namePrefix: string, recursive: boolean, withMetadata: boolean, out: StoredFile[]): Promise<void> {
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
          if (recursive) await this.walk(full, '', true, withMetadata, out);
          return;
        }
        if (!withMetadata) {
          out.push({ path: relative(this.root, full).split(sep).join('/'), sizeBytes: Number.NaN, modifiedMs: Number.NaN });
          return;
        }
        try {
          const info = await stat(full);
          out.push({ path: relative(this.root, full).split(sep).join('/'), sizeBytes: info.size, modifiedMs: info.mtimeMs });
        } catch (error) {
          if (!isNotFound(error)) throw error; // deleted while listing
        }
      }),
    );
  }

  async read(path: string): Promise<Uint8Array> {
    return readFile(this.full(path));
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
