// Parquet encoding and decoding through parquet-wasm (arrow-rs compiled to WebAssembly); see README for why.
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';

export type ParquetCompression = 'snappy' | 'zstd' | 'uncompressed';

export interface ParquetWriteOptions {
  compression?: ParquetCompression;
  /** Rows per row group; each row group carries min/max/null-count statistics. */
  rowGroupRows?: number;
  /** Dictionary-encode columns (default true): smaller files, but about a third of the encoding time of small files. */
  dictionary?: boolean;
}

const codecs: Record<ParquetCompression, wasm.Compression> = {
  snappy: wasm.Compression.SNAPPY,
  zstd: wasm.Compression.ZSTD,
  uncompressed: wasm.Compression.UNCOMPRESSED,
};

/** Encodes an Arrow table as one Parquet file (timestamps as TIMESTAMP(MICROS, isAdjustedToUTC) when the column is µs UTC). */
export function encodeParquet(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const wasmTable = wasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const properties = new wasm.WriterPropertiesBuilder()
    .setCompression(codecs[options.compression ?? 'snappy'])
    .setMaxRowGroupSize(options.rowGroupRows ?? 1_048_576)
    .setDictionaryEnabled(options.dictionary ?? true)
    .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
    .setCreatedBy('logstream delta engine (parquet-wasm)')
    .build();
  return wasm.writeParquet(wasmTable, properties);
}

/** Decodes a whole Parquet file into an Arrow table in JavaScript memory. */
export function decodeParquet(bytes: Uint8Array): Table {
  const wasmTable = wasm.readParquet(bytes);
  return tableFromIPC(wasmTable.intoIPCStream());
}

/** A file read in byte ranges: its size and a reader of [start, end). */
export interface RangedFile {
  sizeBytes: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

/**
 * Decodes only some columns of a Parquet file, fetching the footer and then just their column chunks
 * (parquet-wasm's async reader over a Blob-like object that asks `file` for each range). Columns the
 * file lacks are left out; undefined when it has none of them (read the whole file instead).
 */
export async function decodeParquetColumns(file: RangedFile, columns: readonly string[]): Promise<Table | undefined> {
  // parquet-wasm calls only size, slice() and arrayBuffer() on the Blob it is given.
  const blob = {
    size: file.sizeBytes,
    slice: (start: number, end: number) => ({
      arrayBuffer: async () => {
        const bytes = await file.read(start, Math.min(end, file.sizeBytes));
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      },
    }),
  };
  const parquet = await wasm.ParquetFile.fromFile(blob as unknown as Blob);
  try {
    const schema = parquet.schema();
    const present = columns.filter((column) => {
      try {
        return schema.indexOf(column) >= 0;
      } catch {
        return false;
      }
    });
    schema.free();
    if (present.length === 0) return undefined;
    return tableFromIPC((await parquet.read({ columns: present })).intoIPCStream());
  } finally {
    parquet.free();
  }
}

/** A Parquet file held in memory, read in parts: its footer first, then some row groups and columns. */
export interface ParquetParts {
  /** Key-value metadata of the Arrow schema the file was written with. */
  metadata: ReadonlyMap<string, string>;
  numRows: number;
  numRowGroups: number;
  /** The named top-level columns the file has (all when omitted) of the given row groups (all when omitted). */
  read(options?: { columns?: readonly string[]; rowGroups?: readonly number[] }): Promise<Table>;
  free(): void;
}

export async function openParquetParts(bytes: Uint8Array): Promise<ParquetParts> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const blob = { size: bytes.byteLength, slice: (start: number, end: number) => ({ arrayBuffer: async () => buffer.slice(start, end) }) };
  const parquet = await wasm.ParquetFile.fromFile(blob as unknown as Blob);
  const schema = tableFromIPC(parquet.schema().intoIPCStream()).schema;
  const names = new Set(schema.fields.map((field) => field.name));
  const parquetMetadata = parquet.metadata();
  const parts: ParquetParts = {
    metadata: new Map(schema.metadata),
    numRows: parquetMetadata.fileMetadata().numRows(),
    numRowGroups: parquetMetadata.numRowGroups(),
    async read(options = {}) {
      const columns = options.columns?.filter((column) => names.has(column));
      if (columns?.length === 0) return new Table();
      return tableFromIPC(
        (
          await parquet.read({
            ...(columns ? { columns } : {}),
            ...(options.rowGroups ? { rowGroups: [...options.rowGroups] } : {}),
          })
        ).intoIPCStream(),
      );
    },
    free: () => parquet.free(),
  };
  parquetMetadata.free();
  return parts;
}
