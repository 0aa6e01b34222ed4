/**
 * The floor of a pipeline run: the same work done straight in DuckDB, with none of the
 * pipeline's own bookkeeping. Over a fresh DuckDB file holding a copy of the landed events:
 *   - staging: each core table parsed out of the payloads once, newest image per row, as a
 *     plain table (`create table as`);
 *   - models: every SQL model of `pipelines/sql` in dependency order, the staging ones as
 *     views, the marts and metrics one `create table as` each (no deltas, no part records,
 *     no state, no comments);
 *   - Parquet: every public table written once, the monthly ones in the same Hive folders.
 * What the pipeline spends beyond these (incremental bookkeeping, reconciliation, the
 * snapshot, manifests) is its own overhead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { coreTables, ensureWarehouseSchema } from '../schema.ts';
import { newestImages } from '../transform/core-staging.ts';
import { body, loadModels, qualified } from '../transform/models.ts';
import { hiveFolder } from '../publish.ts';
import { ident, lit, openWarehouse, rowsJson } from '../../src/warehouse/warehouse.ts';

export interface FloorResult {
  stagingMs: number;
  modelsMs: number;
  parquetMs: number;
  parquetFiles: number;
  /** CPU seconds of the three phases (every thread of the process): on a shared machine, wall time also counts others' work. */
  cpuS: number;
  /** The same per phase, ms. */
  stagingCpuMs: number;
  modelsCpuMs: number;
  parquetCpuMs: number;
  /** Tables built (marts and metrics) and views made (staging). */
  tables: number;
  views: number;
  slowest: { model: string; ms: number }[];
}

/** Measures the floor from the landed events of the warehouse file `source` (opened read-only), in `dir`. */
export async function measureFloor(source: string, dir: string): Promise<FloorResult> {
  const file = path.join(dir, 'floor.duckdb');
  const out = path.join(dir, 'floor-parquet');
  for (const f of [file, `${file}.wal`, out]) fs.rmSync(f, { recursive: true, force: true });
  const wh = await openWarehouse(file);
  const conn = wh.conn;
  try {
    // Not timed: the landed events and the as-of date of the pipeline's run.
    await ensureWarehouseSchema(conn);
    await conn.run(`attach ${lit(source)} as pipeline (read_only)`);
    await conn.run('insert into raw.events select * from pipeline.raw.events');
    const asOf = String(
      (await rowsJson(conn, `select cast(as_of as varchar) as d from pipeline.ops.pipeline_runs where status = 'succeeded' and as_of is not null order by started_at desc limit 1`))[0]?.d,
    );
    await conn.run('detach pipeline');
    await conn.run('checkpoint');

    const c0 = process.cpuUsage();
    let t = performance.now();
    const spec = Object.fromEntries(Object.entries(coreTables).map(([table, columns]) => [table, [columns]]));
    await conn.run(`create temp table _parsed as select seq, from_json(payload, ${lit(JSON.stringify(spec))}) as p from raw.events`);
    for (const [table, columns] of Object.entries(coreTables)) {
      await conn.run(`drop table staging.core_${table}`);
      await conn.run(`create table staging.core_${table} as ${newestImages(table, Object.keys(columns), '_parsed')}`);
    }
    await conn.run('drop table _parsed');
    await conn.run('checkpoint');
    const stagingMs = performance.now() - t;
    const stagingCpuMs = cpuMs(c0);

    const models = loadModels();
    await conn.run(`set variable as_of = date ${lit(asOf)}`);
    t = performance.now();
    const perModel: { model: string; ms: number }[] = [];
    for (const m of models) {
      const s = performance.now();
      await conn.run(`create or replace ${m.layer === 'staging' ? 'view' : 'table'} ${qualified(m)} as\n${body(m)}`);
      perModel.push({ model: qualified(m), ms: performance.now() - s });
    }
    await conn.run('checkpoint');
    const modelsMs = performance.now() - t;
    const modelsCpuMs = cpuMs(c0) - stagingCpuMs;

    t = performance.now();
    let parquetFiles = 0;
    for (const m of models.filter((x) => x.layer !== 'staging')) {
      const folder = path.join(out, qualified(m));
      fs.mkdirSync(folder, { recursive: true });
      if (m.partitionColumn === null) {
        await conn.run(`copy ${qualified(m)} to ${lit(path.join(folder, 'all.parquet'))} (format parquet, compression zstd)`);
        parquetFiles++;
      } else {
        const month = `${m.partitionColumn}_month`;
        await conn.run(
          `copy (select *, strftime(${ident(m.partitionColumn)}, '%Y-%m') as ${ident(month)} from ${qualified(m)})
           to ${lit(folder)} (format parquet, compression zstd, partition_by (${ident(month)}), overwrite_or_ignore)`,
        );
        parquetFiles += fs.readdirSync(folder).filter((f) => f === hiveFolder(m.partitionColumn!, 'none') || f.startsWith(`${month}=`)).length;
      }
    }
    const parquetMs = performance.now() - t;
    const cpu = process.cpuUsage(c0);
    const parquetCpuMs = cpuMs(c0) - stagingCpuMs - modelsCpuMs;
    return {
      stagingMs,
      modelsMs,
      parquetMs,
      parquetFiles,
      cpuS: (cpu.user + cpu.system) / 1e6,
      stagingCpuMs,
      modelsCpuMs,
      parquetCpuMs,
      tables: models.filter((m) => m.layer !== 'staging').length,
      views: models.filter((m) => m.layer === 'staging').length,
      slowest: perModel.sort((a, b) => b.ms - a.ms).slice(0, 6),
    };
  } finally {
    wh.close();
    if (!process.env.CASHLOOP_BENCH_KEEP_FLOOR) for (const f of [file, `${file}.wal`, out]) fs.rmSync(f, { recursive: true, force: true });
  }
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return (c.user + c.system) / 1000;
}
