import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJson, scalarNumber, VACUUM_TASKS } from '../src/warehouse/warehouse.ts';

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

/**
 * The share of DuckDB's memory limit a compacting run keeps. Vacuuming reads every row group
 * of the tables it merges and writes them again, and DuckDB keeps the blocks it read in its
 * buffer pool up to the limit: at a million invoices the run that compacts took the process
 * from about 680 MB (the incremental runs before it) to 1,424 MB under the 1 GB default, and
 * to 951 MB with half of it (`npm run bench:pipeline -- --reuse`, pipelines/README.md). An
 * incremental run's own work fits in the smaller pool; what does not spills.
 */
export const COMPACTION_MEMORY_SHARE = 0.5;

/**
 * How much a run's commits may add to DuckDB's write-ahead log before one of them checkpoints
 * (DuckDB's default is 16 MB). A run commits three times or more (ingest, transform, the run
 * log) and closes the file, which checkpoints. At a million invoices a 1 % run writes about
 * 25 MB of log (13 MB of events, 11 MB of model changes), so under the default the transform's
 * commit checkpointed and the close did again; in a compacting run the first of them did the
 * vacuuming, and the second vacuumed what the later commits touched. With this threshold the
 * commits only append to the log and the run's one checkpoint is its close. A run that dies
 * first leaves its committed steps in the log, replayed when the file is next opened.
 */
export const RUN_CHECKPOINT_THRESHOLD = '1GB';

/** Lets this session's commits append to the write-ahead log up to `RUN_CHECKPOINT_THRESHOLD` without checkpointing. */
export async function checkpointAtClose(conn: DuckDBConnection): Promise<void> {
  await conn.run(`set checkpoint_threshold = '${RUN_CHECKPOINT_THRESHOLD}'`);
}

const UNITS: Record<string, number> = { bytes: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** Bytes of a size as DuckDB prints a setting (`953.6 MiB`), or null when it is not one. */
export function parseDuckdbBytes(text: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!] : undefined;
  return m && unit ? Math.round(Number(m[1]) * unit) : null;
}

/**
 * Lets this session's checkpoints vacuum again (DuckDB's default), for a compacting run, and
 * lowers DuckDB's memory limit for the rest of the run to `COMPACTION_MEMORY_SHARE` of what it
 * was (the warehouse is opened again with the configured limit by the next run).
 */
export async function allowVacuum(conn: DuckDBConnection): Promise<void> {
  await conn.run(`set max_vacuum_tasks = ${VACUUM_TASKS}`);
  const limit = parseDuckdbBytes(String((await rowsJson(conn, `select current_setting('memory_limit') as v`))[0]?.v ?? ''));
  if (limit) await conn.run(`set memory_limit = '${Math.floor(limit * COMPACTION_MEMORY_SHARE)}B'`);
}
