// Where a table lives: the one place that turns a table path (a folder, file://…, s3://bucket/prefix)
// into a Storage, and joins table names onto a lakehouse root without breaking URLs.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StorageLocationError } from './errors.js';
import { logExists } from './log.js';
import { S3Storage, isS3Url, type S3Settings } from './s3Storage.js';
import { LocalStorage, type Storage } from './storage.js';

/** What openStorage needs besides the path; plain data, so the Delta writer thread can build the same storage. */
export interface StorageSettings {
  s3?: S3Settings;
}

const urlScheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** True for scheme://… locations (s3://, file://), false for plain folders. */
export function isUrlLocation(path: string): boolean {
  return urlScheme.test(path);
}

/** The Storage of the table at `path`: LocalStorage for a folder or file:// URL, S3Storage for s3:// (and s3a://). */
export function openStorage(path: string, settings: StorageSettings = {}): Storage {
  if (isS3Url(path)) return new S3Storage(path, settings.s3);
  const scheme = urlScheme.exec(path)?.[1]?.toLowerCase();
  if (scheme === 'file') return new LocalStorage(fileURLToPath(path));
  if (scheme)
    throw new StorageLocationError(path, `"${scheme}://" locations are not supported`, 'use a folder, file://… or s3://bucket/prefix');
  return new LocalStorage(resolve(path));
}

/** A table under a lakehouse root: join() for folders, '/' for URLs (join would turn s3://b into s3:/b). */
export function tablePath(root: string, name: string): string {
  return isUrlLocation(root) ? `${root.replace(/\/+$/, '')}/${name}` : join(root, name);
}

/** True when the path holds a Delta log with at least one commit or checkpoint. */
export async function tableExists(path: string, settings: StorageSettings & { storage?: Storage } = {}): Promise<boolean> {
  return logExists(settings.storage ?? openStorage(path, settings));
}

/** The tables directly under a lakehouse root (folders, or S3 prefixes, holding a Delta log), sorted by name. */
export async function findTables(root: string, settings: StorageSettings = {}): Promise<string[]> {
  const names = await openStorage(root, settings).listFolders('');
  const tables: string[] = [];
  for (const name of names) if (await tableExists(tablePath(root, name), settings)) tables.push(tablePath(root, name));
  return tables;
}
