import JSZip from 'jszip';
import { Dictionary, Int32, Table, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import type { Row } from './snapshot.ts';

/**
 * Column kinds of the drill-down files: `text` (a string, null kept), `words` (a string that
 * repeats — a name, a date, a category — dictionary-encoded so a month of rows stays small), `number` (a float, NaN for
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
    else if (kind === 'words') vectors[name] = vectorFromArray(values.map((v) => (v == null ? null : String(v))), new Dictionary(new Utf8(), new Int32()));
    else vectors[name] = vectorFromArray(values.map((v) => (v == null ? null : String(v))), new Utf8());
  }
  return new Table(vectors);
}

/** Writes a zip of Arrow streams (`name → rows`) to stdout; a page opens one member on demand. */
export async function emitArrowZip(files: Map<string, { rows: readonly Row[]; columns: Record<string, Kind> }>): Promise<void> {
  const zip = new JSZip();
  for (const [name, { rows, columns }] of files) zip.file(name, tableToIPC(arrowTable(rows, columns), 'stream'));
  process.stdout.write(await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' }));
}
