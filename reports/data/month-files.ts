import { MONTHS, monthsBack } from '../components/months.js';
import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/** The data's scope as `mainScope` reads it: source, currency, the data date and its month end. */
export type Scope = Awaited<ReturnType<typeof mainScope>>;

/**
 * Rows spread over one Arrow file per month back from `asOf` (`back-0.arrows` is the data
 * date's own month … `back-{MONTHS − 1}.arrows`, by components/months.js); every file is
 * there, empty or not, because a page names each one. A row's month is its `month` column
 * (a date in the month), which the files themselves leave out unless `columns` names it;
 * rows of older months, or after `asOf`, are dropped.
 */
export function filesByMonthBack(rows: readonly Row[], asOf: string, columns: Record<string, Kind>): Map<string, { rows: Row[]; columns: Record<string, Kind> }> {
  const out = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
  for (let n = 0; n < MONTHS; n++) out.set(`back-${n}.arrows`, { rows: [], columns });
  for (const r of rows) {
    const n = monthsBack(String(r.month), asOf);
    if (n != null) out.get(`back-${n}.arrows`)!.rows.push(r);
  }
  return out;
}

/**
 * A monthly drill-down loader in one call: reads the snapshot's scope, runs the query the
 * scope gives (its rows carry a `month` column), and writes the zip of one Arrow file per
 * month back to stdout, in the rows' order.
 */
export async function emitMonthFiles(columns: Record<string, Kind>, query: (scope: Scope) => string): Promise<void> {
  const files = await withSnapshot(async (q) => {
    const scope = await mainScope(q);
    return filesByMonthBack(await q(query(scope)), scope.asOf, columns);
  });
  await emitArrowZip(files);
}
