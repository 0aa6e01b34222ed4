import type { DuckDBConnection } from '@duckdb/node-api';
import { scalarNumber, VACUUM_TASKS } from '../src/warehouse/warehouse.ts';

/**
 * When a pipeline run compacts the warehouse file.
 *
 * A DuckDB checkpoint normally also vacuums: it merges small row groups and drops deleted
 * rows. On an incremental run that is most of the cost of committing: the few thousand new
 * events are merged into `raw.events`' last row groups, rewriting up to 122,880 payloads
 * (about 1 s of a 7 s run at a million invoices), and the rows an incremental model replaced
 * are squeezed out of its row groups. Runs therefore checkpoint without vacuuming
 * (`openWarehouse(…, { deferCompaction: true })`), and one run in a while vacuums everything
 * it touches: when `raw.events` holds `SPARE_ROW_GROUPS` more row groups than its rows need —
 * after about that many runs with new events — or when asked (`compact: true`). A table rebuilt
 * whole (every model on a live core's first run of the day, whose as-of date moved) is written
 * fresh and needs none of it. The benchmark prints the cost of a compacting run beside the others.
 */
export const ROW_GROUP_ROWS = 122_880;
export const SPARE_ROW_GROUPS = 16;

export interface Compaction {
  due: boolean;
  rowGroups: number;
  needed: number;
}

/** Whether this run should vacuum: `raw.events` is split into many more row groups than its rows need. */
export async function compactionDue(conn: DuckDBConnection): Promise<Compaction> {
  const rows = await scalarNumber(conn, 'select count(*) from raw.events');
  const rowGroups = await scalarNumber(conn, `select count(distinct row_group_id) from pragma_storage_info('raw.events')`);
  const needed = Math.ceil(rows / ROW_GROUP_ROWS);
  return { due: rowGroups > needed + SPARE_ROW_GROUPS, rowGroups, needed };
}

/** Lets this session's checkpoints vacuum again (DuckDB's default), for a compacting run. */
export async function allowVacuum(conn: DuckDBConnection): Promise<void> {
  await conn.run(`set max_vacuum_tasks = ${VACUUM_TASKS}`);
}
