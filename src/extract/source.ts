import fs from 'node:fs';
import path from 'node:path';
import { parse, CsvError } from 'csv-parse';
import { invalid } from '../shared/errors.ts';
import type { FileMapping } from './mapping.ts';

/** One data row of a source file, with where it came from. */
export interface SourceRow {
  /** 1 = the first data row after the header. */
  row: number;
  /** Line of the file where the row starts (CSV), or the row number (Parquet). */
  line: number;
  /** The values as read, in header order. */
  raw: string[];
}

/**
 * A file to import, read as a stream of rows; `rows()` opens a fresh stream each time, so
 * the importer can validate everything in one pass and load in a second without holding
 * the file in memory.
 */
export interface Source {
  file: string;
  format: 'csv' | 'parquet';
  /** CSV delimiter in use (given or detected); it also decides the default decimal separator. */
  delimiter: string | null;
  header: string[];
  /** Size in progress units (bytes for CSV, rows for Parquet). */
  size: number;
  rows(onProgress?: (done: number) => void): AsyncGenerator<SourceRow>;
  close(): Promise<void>;
}

export async function openSource(file: string, mapping: FileMapping): Promise<Source> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw invalid(`file ${file} does not exist`, { field: 'file', value: file, rule: 'file_exists' });
  return /\.parquet$/i.test(file) ? openParquet(file) : openCsv(file, mapping);
}

/** Picks the delimiter of the header line: the most frequent of `,` `;` and tab outside quotes. */
export function detectDelimiter(firstLine: string): string {
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch in counts) counts[ch]! += 1;
  }
  const [best, n] = Object.entries(counts).sort((a, b) => b[1] - a[1])[0]!;
  return n > 0 ? best : ',';
}

function firstLineOf(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  } finally {
    fs.closeSync(fd);
  }
}

function csvProblem(file: string, e: unknown): Error {
  if (e instanceof CsvError) {
    const line = (e as CsvError & { lines?: number }).lines;
    return invalid(`file ${path.basename(file)}${line ? ` line ${line}` : ''}: ${e.message}`, { field: 'file', value: file, rule: `csv_${e.code.toLowerCase()}` });
  }
  return e as Error;
}

async function openCsv(file: string, mapping: FileMapping): Promise<Source> {
  const delimiter = mapping.delimiter ?? detectDelimiter(firstLineOf(file));
  const size = fs.statSync(file).size;
  async function* records(onProgress?: (done: number) => void): AsyncGenerator<{ record: string[]; line: number }> {
    const parser = fs.createReadStream(file).pipe(parse({ bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, info: true }));
    let previousEnd = 0;
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
        const line = previousEnd + 1;
        previousEnd = item.info.lines;
        onProgress?.(item.info.bytes);
        yield { record: item.record, line };
      }
    } catch (e) {
      throw csvProblem(file, e);
    } finally {
      parser.destroy();
    }
  }
  let header: string[] | undefined;
  for await (const first of records()) {
    header = first.record;
    break;
  }
  if (!header || header.every((h) => h.trim() === '')) throw invalid(`file ${path.basename(file)} is empty: it needs a header row`, { field: 'file', value: file, rule: 'header_required' });
  return {
    file,
    format: 'csv',
    delimiter,
    header,
    size,
    async *rows(onProgress) {
      let n = 0;
      for await (const { record, line } of records(onProgress)) {
        if (n++ === 0) continue;
        yield { row: n - 1, line, raw: record };
      }
    },
    async close() {},
  };
}

async function openParquet(file: string): Promise<Source> {
  // Loaded on first use: the native DuckDB binding costs every CLI start a third of a second.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  let header: string[];
  let size: number;
  try {
    const meta = await conn.runAndReadAll('select count(*)::bigint as n from read_parquet($1)', [file]);
    size = Number(meta.getRows()[0]![0]);
    const cols = await conn.runAndReadAll('select * from read_parquet($1) limit 0', [file]);
    header = cols.columnNames();
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw invalid(`file ${path.basename(file)} is not a readable Parquet file: ${(e as Error).message}`, { field: 'file', value: file, rule: 'parquet_format' });
  }
  return {
    file,
    format: 'parquet',
    delimiter: null,
    header,
    size,
    async *rows(onProgress) {
      // Every column as text, so Parquet and CSV go through the same validation; the result
      // is streamed chunk by chunk (about 2 000 rows), never read whole.
      const result = await conn.stream('select columns(*)::varchar from read_parquet($1)', [file]);
      let n = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const rows = chunk.getRows();
        for (const r of rows) {
          n += 1;
          yield { row: n, line: n, raw: r.map((v) => (v === null ? '' : String(v))) };
        }
        onProgress?.(n);
      }
    },
    async close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A row's canonical values: each canonical column's cell, and the mapping's constants where the cell is empty. */
export function rowValues(positions: Map<string, number>, mapping: FileMapping, row: SourceRow): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, i] of positions) values[name] = row.raw[i] ?? '';
  for (const [name, value] of Object.entries(mapping.constants ?? {})) {
    if ((values[name] ?? '').trim() === '') values[name] = value;
  }
  return values;
}
