import JSZip from 'jszip';
import { Dictionary, Int8, Int16, Int32, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { currentRunner, type Row } from './snapshot.ts';

/**
 * Column kinds of the drill-down files: `text` (a string, null kept), `words` (a string that
 * repeats — a name, a date, a category — dictionary-encoded so a month of rows stays small,
 * its indices one byte a row when it has fewer than 128 values, two when fewer than 32,768), `number` (a float, NaN for
 * null; money is already in its currency's units, rounded by its exponent in SQL), `int`.
 */
export type Kind = 'text' | 'words' | 'number' | 'int';

/** Rows as one Arrow table with the given columns, in that order. */
export function arrowTable(rows: readonly Row[], columns: Record<string, Kind>): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, kind] of Object.entries(columns)) {
    const values = rows.map((r) => r[name]);
    if (kind === 'number') vectors[name] = vectorFromArray(Float64Array.from(values.map((v) => (v == null ? NaN : Number(v)))));
    else if (kind === 'int') vectors[name] = vectorFromArray(Int32Array.from(values.map((v) => Number(v ?? 0))));
    else if (kind === 'words') {
      const strings = values.map((v) => (v == null ? null : String(v)));
      const distinct = new Set(strings).size;
      vectors[name] = vectorFromArray(strings, new Dictionary(new Utf8(), distinct < 128 ? new Int8() : distinct < 32768 ? new Int16() : new Int32()));
    }
    else vectors[name] = vectorFromArray(values.map((v) => (v == null ? null : String(v))), new Utf8());
  }
  return new Table(vectors);
}

/** Writes a zip of Arrow streams (`name → rows`); a page opens one member on demand. */
export async function emitArrowZip(files: Map<string, { rows: readonly Row[]; columns: Record<string, Kind> }>): Promise<void> {
  await emitMembers(new Map([...files].map(([name, { rows, columns }]) => [name, tableToIPC(arrowTable(rows, columns), 'stream')])));
}

/**
 * Writes an archive loader's members: as a zip on stdout when Framework runs the loader, or
 * straight as the files the zip would hold in the one-process build (build-site.ts), which
 * saves zipping them and Framework unzipping them one by one.
 */
export async function emitMembers(members: Map<string, Uint8Array>): Promise<void> {
  const runner = currentRunner();
  if (runner) return runner.writeMembers(members);
  const zip = new JSZip();
  for (const [name, data] of members) zip.file(name, data);
  process.stdout.write(await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' }));
}
