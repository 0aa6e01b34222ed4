import type { DuckDBConnection } from '@duckdb/node-api';
import { BACKFILL_MARK, coreTables, getWatermark, setWatermark, STAGING_WATERMARK } from '../schema.ts';
import { lit, rowsJson, scalarNumber } from '../../src/warehouse/warehouse.ts';
import { deltaTable } from './models.ts';

export { STAGING_WATERMARK };

/**
 * Stages a core table newly kept by the warehouse from the events staged before it was (see
 * `ensureWarehouseSchema`): the newest image of each of its rows up to the mark. The models
 * reading it are built whole in that run, since the staged tables are part of every model's
 * definition.
 */
async function backfillNewTables(conn: DuckDBConnection): Promise<number> {
  let rows = 0;
  for (const mark of await rowsJson(conn, `select name, value from ops.watermarks where name like '${BACKFILL_MARK}%'`)) {
    const table = String(mark.name).slice(BACKFILL_MARK.length);
    const columns = coreTables[table];
    if (columns) {
      const names = Object.keys(columns);
      const spec = lit(JSON.stringify({ [table]: [columns] }));
      await conn.run(`create or replace temp table _backfill as
        select _seq, ${names.map((n) => `r."${n}"`).join(', ')}
        from (select seq as _seq, unnest(from_json(payload, ${spec}).${table}) as r from raw.events where seq <= ${Number(mark.value)} and payload like ${lit(`%"${table}"%`)})
        qualify row_number() over (partition by r.id order by _seq desc) = 1`);
      await conn.run(`delete from staging.core_${table} where id in (select id from _backfill)`);
      rows += Number((await conn.run(`insert into staging.core_${table} by name select * from _backfill`)).rowsChanged);
      await conn.run('drop table _backfill');
    }
    await conn.run('delete from ops.watermarks where name = $1', [String(mark.name)]);
  }
  return rows;
}

/**
 * The newest image of each row of a core table among parsed events (`seq`, `p`: the payload as
 * one struct holding a list per table): its highest `seq`, and within one event its last place
 * in the list. Picked by a plain aggregate (the newest place per id) and a semi join on it: both
 * spill to disk when larger than DuckDB's memory limit, where a window partitioned by id over
 * every image (ten million invoices: 19 million rows) holds more than it can spill and fails.
 */
export function newestImages(table: string, names: string[], parsed: string): string {
  const images = `select seq as _seq, unnest(p.${table}) as r, generate_subscripts(p.${table}, 1) as _pos from ${parsed} where len(p.${table}) > 0`;
  // Where an image stands in the feed, as one number: a HUGEINT aggregate keeps a fixed-size state.
  const place = `_seq::hugeint * 4294967296 + _pos`;
  return `with images as not materialized (${images}),
    newest as (select r.id as id, max(${place}) as place from images group by r.id)
    select _seq, ${names.map((n) => `r."${n}"`).join(', ')}
    from images semi join newest on newest.id = images.r.id and newest.place = ${place}`;
}

/**
 * Brings `staging.core_<table>` up to date with the events landed since the last transform:
 * the payloads are after-images keyed by table name, so for each table the newest image of
 * a row (highest seq) replaces the staged one. Only new events are parsed, which keeps an
 * incremental run proportional to what changed. Runs inside the transform's transaction;
 * the staging watermark moves with the rows.
 *
 * With `deltas`, every table's change is also kept for the incremental models as the
 * temporary table `delta_staging_core_<table>`: the replaced rows (`_change = 'old'`) and
 * their new images (`'new'`), empty when nothing changed.
 */
export async function stageCoreEvents(conn: DuckDBConnection, options: { deltas?: boolean } = {}): Promise<{ events: number; rowsWritten: number; changed: Record<string, number> }> {
  const backfilled = await backfillNewTables(conn);
  const from = await getWatermark(conn, STAGING_WATERMARK);
  const to = await scalarNumber(conn, 'select coalesce(max(seq), 0) from raw.events');
  const changed: Record<string, number> = Object.fromEntries(Object.keys(coreTables).map((t) => [t, 0]));
  if (options.deltas) {
    // Every table's empty delta in one call: a statement sent on its own costs a round trip.
    await conn.run(
      Object.keys(coreTables)
        .map((table) => `create or replace temp table ${deltaTable(`staging.core_${table}`)} as select 'old' as _change, * from staging.core_${table} limit 0`)
        .join(';\n'),
    );
  }
  if (to <= from) return { events: 0, rowsWritten: backfilled, changed };
  // Each payload is parsed once, into one struct holding a list per core table. (Parsing only
  // the tables whose names the payloads hold was tried: finding them by a text search of the
  // payloads cost more than the parse it saved.)
  const tables = Object.keys(coreTables);
  const spec = Object.fromEntries(Object.entries(coreTables).map(([table, columns]) => [table, [columns]]));
  let rowsWritten = backfilled;
  // Which tables the new events carry rows of, in the same call: the others are not looked at again.
  const carried = (
    await rowsJson(
      conn,
      `create or replace temp table _new_events as
       select seq, from_json(payload, ${lit(JSON.stringify(spec))}) as p from raw.events where seq > ${from} and seq <= ${to};
       select count(*) as events, ${tables.map((t, i) => `coalesce(sum(len(p.${t})), 0) as n${i}`).join(', ')} from _new_events`,
    )
  )[0]!;
  for (const [i, table] of tables.entries()) {
    if (Number(carried[`n${i}`]) === 0) continue;
    const newest = newestImages(table, Object.keys(coreTables[table]!), '_new_events');
    if (!options.deltas && (await scalarNumber(conn, `select count(*) from (select 1 from staging.core_${table} limit 1)`)) === 0) {
      // An empty table (the first build) takes the rows straight: nothing to replace, no delta to keep.
      const n = Number((await conn.run(`insert into staging.core_${table} by name ${newest}`)).rowsChanged);
      changed[table] = n;
      rowsWritten += n;
      continue;
    }
    const delta = deltaTable(`staging.core_${table}`);
    // The newest images, the delta (rows replaced, then their new images) and the replacement, in one call.
    const n = await scalarNumber(
      conn,
      [
        `create or replace temp table _new_rows as ${newest}`,
        ...(options.deltas
          ? [
              `insert into ${delta} by name select 'old' as _change, * from staging.core_${table} where id in (select id from _new_rows)`,
              `insert into ${delta} by name select 'new' as _change, * from _new_rows`,
            ]
          : []),
        `delete from staging.core_${table} where id in (select id from _new_rows)`,
        `insert into staging.core_${table} by name select * from _new_rows`,
        'select count(*) from _new_rows',
      ].join(';\n'),
    );
    changed[table] = n;
    rowsWritten += n;
  }
  await conn.run('drop table if exists _new_rows; drop table if exists _new_events');
  await setWatermark(conn, STAGING_WATERMARK, to);
  return { events: Number(carried.events), rowsWritten, changed };
}
