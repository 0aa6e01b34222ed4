import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { allowVacuum, checkpointAtClose, COMPACTION_MEMORY_SHARE, compactionDue, parseDuckdbBytes, SPARE_ROW_GROUPS } from '../../pipelines/compact.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { ensureWarehouseSchema } from '../../pipelines/schema.ts';
import { openWarehouse, rowsJson, scalarNumber, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { Ledger, readWarehouse, tempDir } from './ledger.ts';

/** Appends `batches` small loads to raw.events, each committed and checkpointed without vacuuming, as incremental runs do. */
async function fragment(file: string, batches: number, firstSeq: number): Promise<void> {
  const wh = await openWarehouse(file, { deferCompaction: true });
  try {
    await ensureWarehouseSchema(wh.conn);
    for (let b = 0; b < batches; b++) {
      const seq = firstSeq + b;
      await wh.conn.run(`insert into raw.events values (${seq}, 'test.noted', 'test', '${seq}', '{}', 'test', '2026-03-01T00:00:00Z', 'fragment')`);
      await wh.conn.run('checkpoint');
    }
  } finally {
    wh.close();
  }
}

describe(`compaction of the warehouse file (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  beforeEach(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    dir = tempDir();
  });
  afterEach(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('checkpoints without vacuuming leave one row group per load; due once there are more than the spare ones', async () => {
    const file = warehousePaths(dir).warehouse;
    await fragment(file, SPARE_ROW_GROUPS, 1_000_000);
    const wh = await openWarehouse(file, { readOnly: true });
    try {
      expect(await compactionDue(wh.conn)).toEqual({ due: false, rowGroups: SPARE_ROW_GROUPS, needed: 1 });
    } finally {
      wh.close();
    }
    await fragment(file, 2, 2_000_000);
    const again = await openWarehouse(file, { readOnly: true });
    try {
      expect(await compactionDue(again.conn)).toEqual({ due: true, rowGroups: SPARE_ROW_GROUPS + 2, needed: 1 });
    } finally {
      again.close();
    }
  });

  it('runs that load a few events each fragment raw.events until one compacts it; every event is there exactly once', async () => {
    const l = new Ledger(t.core);
    const file = warehousePaths(dir).warehouse;
    const ingest = () => runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true, steps: ['ingest'] });
    const compacted: boolean[] = [];
    for (let k = 0; k < SPARE_ROW_GROUPS + 3; k++) {
      await l.customer(`C${k}`);
      compacted.push((await ingest()).compacted);
    }
    // The first runs only add row groups; once there are more than the spare ones, a run compacts.
    expect(compacted.slice(0, SPARE_ROW_GROUPS + 1).every((c) => !c)).toBe(true);
    expect(compacted.some((c) => c)).toBe(true);
    const groups = await readWarehouse(file, `select count(distinct row_group_id) as n from pragma_storage_info('raw.events')`);
    expect(Number(groups[0]!.n)).toBeLessThanOrEqual(SPARE_ROW_GROUPS);
    const events = await readWarehouse(file, 'select count(*) as n, count(distinct seq) as d, max(seq) as m from raw.events');
    const core = await t.core.db.kysely.selectFrom('events').select((e) => [e.fn.countAll<number>().as('n'), e.fn.max('seq').as('m')]).executeTakeFirstOrThrow();
    expect(events).toEqual([{ n: String(core.n), d: String(core.n), m: String(core.m) }]);
  });

  it('a run asked to compact does so when it is not due', async () => {
    const l = new Ledger(t.core);
    await l.customer('C1');
    const run = await runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true, steps: ['ingest'], compact: true });
    expect(run.compacted).toBe(true);
    const wh = await openWarehouse(warehousePaths(dir).warehouse, { readOnly: true });
    try {
      expect((await compactionDue(wh.conn)).due).toBe(false);
      expect(await scalarNumber(wh.conn, 'select count(*) from raw.events')).toBeGreaterThan(0);
    } finally {
      wh.close();
    }
  });

  it("a run's commits append to the write-ahead log without checkpointing; closing the file checkpoints it, with every row", async () => {
    const file = warehousePaths(dir).warehouse;
    const wal = `${file}.wal`;
    const walBytes = () => (fs.existsSync(wal) ? fs.statSync(wal).size : 0);
    const wh = await openWarehouse(file, { deferCompaction: true });
    try {
      await ensureWarehouseSchema(wh.conn);
      await wh.conn.run('checkpoint');
      await checkpointAtClose(wh.conn);
      // Two commits of about 13 MB of log each (a 1 % run's events, then its model changes): together over DuckDB's default threshold (16 MB).
      for (const first of [1_000_000, 2_000_000]) {
        await wh.conn.run(
          `insert into raw.events select ${first} + range, 'test.noted', 'test', cast(range as varchar), repeat('x', 200) || range, 'test', '2026-03-01T00:00:00Z', 'log' from range(50000)`,
        );
      }
      expect(walBytes()).toBeGreaterThan(16 * 2 ** 20);
    } finally {
      wh.close();
    }
    expect(walBytes()).toBe(0);
    expect(await readWarehouse(file, 'select count(*) as n from raw.events')).toEqual([{ n: '100000' }]);
  });

  it('a compacting run vacuums under a smaller share of DuckDB\'s memory limit', async () => {
    expect(parseDuckdbBytes('953.6 MiB')).toBe(Math.round(953.6 * 2 ** 20));
    expect(parseDuckdbBytes('2.0 GiB')).toBe(2 * 2 ** 30);
    expect(parseDuckdbBytes('512 bytes')).toBe(512);
    expect(parseDuckdbBytes('unlimited')).toBeNull();
    const limit = async (conn: Parameters<typeof allowVacuum>[0]) => parseDuckdbBytes(String((await rowsJson(conn, `select current_setting('memory_limit') as v`))[0]!.v))!;
    const wh = await openWarehouse(warehousePaths(dir).warehouse);
    try {
      const before = await limit(wh.conn);
      await allowVacuum(wh.conn);
      expect(Number((await rowsJson(wh.conn, `select current_setting('max_vacuum_tasks') as v`))[0]!.v)).toBeGreaterThan(0);
      // DuckDB prints the limit rounded to a tenth of its unit.
      expect(Math.abs((await limit(wh.conn)) - before * COMPACTION_MEMORY_SHARE)).toBeLessThan(before / 1000);
    } finally {
      wh.close();
    }
  });
});
