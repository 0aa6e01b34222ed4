import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { ingestEvents } from '../../pipelines/ingest/events.ts';
import { ensureWarehouseSchema } from '../../pipelines/schema.ts';
import { lit, openWarehouse, rowsJson, storesZstd, type Warehouse } from '../../src/warehouse/warehouse.ts';
import { tempDir } from './ledger.ts';

/** Events with values a delimited text cannot carry as they are, among ordinary ones. */
const awkward = [
  { actor: 'cli:a\x1fb', payload: '{"customers":[]}' }, // the separator
  { actor: 'api:x', payload: '{"note":"line\nbreak"}' }, // a raw line break (not valid JSON, but text the core may hold)
  { actor: 'api:y', payload: '{"note":"carriage\rreturn"}' },
  { actor: '', payload: '{}' }, // an empty value is not a null
  { actor: 'import', payload: '{"name":"Müller & Søn – 東京 ☃","q":"\\"quoted\\""}' },
  { actor: 'import', payload: `{"blob":"${'x'.repeat(3_000_000)}"}` }, // longer than a CSV reader's default line
];

describe(`event feed ingest (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  let wh: Warehouse;

  beforeEach(async () => {
    t = await createTestCore();
    dir = tempDir();
    wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'));
    await ensureWarehouseSchema(wh.conn);
  });
  afterEach(async () => {
    wh.close();
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function addEvents(rows: { actor: string; payload: string }[]) {
    for (let i = 0; i < rows.length; i += 200) {
      await t.core.db.kysely
        .insertInto('events')
        .values(rows.slice(i, i + 200).map((r, k) => ({ event_type: 'test.event', aggregate_type: 'test', aggregate_id: String(i + k), payload: r.payload, actor: r.actor, occurred_at: '2026-01-05T09:00:00.000Z' })))
        .execute();
    }
  }
  const coreEvents = async () =>
    (await t.core.db.kysely.selectFrom('events').select(['seq', 'event_type', 'aggregate_type', 'aggregate_id', 'payload', 'actor', 'occurred_at']).orderBy('seq').execute()).map((e) => ({
      ...e,
      seq: String(e.seq),
    }));
  const landed = async () =>
    (await rowsJson(wh.conn, 'select seq, event_type, aggregate_type, aggregate_id, payload, actor, occurred_at from raw.events order by seq')) as Record<string, unknown>[];

  it('lands every event byte for byte, in batches and groups, including values the text cannot carry', async () => {
    const ordinary = Array.from({ length: 1_300 }, (_, i) => ({ actor: 'demo', payload: JSON.stringify({ invoices: [{ id: i, number: `INV-${i}`, total_minor: i * 100 }] }) }));
    await addEvents(ordinary.slice(0, 700));
    await addEvents(awkward);
    await addEvents(ordinary.slice(700));
    // A value that forges a well-formed line of its own: same count, same seq, but not the same bytes.
    await addEvents([{ actor: 'api:z', payload: '{}' }]);
    const forged = await t.core.db.kysely.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirstOrThrow();
    await t.core.db.kysely.updateTable('events').set({ payload: `{}\n${forged.seq}\x1fforged.event\x1ftest\x1f0\x1f{}` }).where('seq', '=', Number(forged.seq)).execute();

    // On SQLite the ingest reads through a memory map and gives the connection its own setting back afterwards.
    const mmapSize = async () => (t.core.db.dialect === 'sqlite' ? (await sql<{ mmap_size: number }>`pragma mmap_size`.execute(t.core.db.kysely)).rows[0]?.mmap_size : null);
    const mmapBefore = await mmapSize();

    // Small batches written in smaller slices: several groups, the core's next group read while DuckDB loads the previous one.
    const r = await ingestEvents(wh.conn, t.core.db, { runId: 'r1', batchSize: 100, sliceSize: 30 });
    expect(await mmapSize()).toBe(mmapBefore);
    expect(r).toMatchObject({ rowsRead: 1_307, rowsWritten: 1_307, fromSeq: 0, toSeq: 1_307 });
    // Only the batches holding an awkward value went row by row.
    expect(r.batchesByRow).toBeGreaterThanOrEqual(1);
    expect(r.batchesByRow).toBeLessThanOrEqual(awkward.length + 1);
    const rows = await landed();
    expect(rows).toEqual(await coreEvents());
    expect(await rowsJson(wh.conn, `select count(*) as n from raw.events where run_id = 'r1'`)).toEqual([{ n: '1307' }]);
    expect(await rowsJson(wh.conn, `select value from ops.watermarks where name = 'core_events'`)).toEqual([{ value: '1307' }]);

    // The next run loads only what came after the watermark.
    // With gaps in the seqs (a sequence skips the numbers of a rolled-back insert), the seqs' digits are counted by the core's database.
    await addEvents(ordinary.slice(0, 250));
    await t.core.db.kysely.deleteFrom('events').where('seq', 'in', [1_400, 1_401, 1_520]).execute();
    const next = await ingestEvents(wh.conn, t.core.db, { runId: 'r2', batchSize: 100, sliceSize: 30 });
    expect(next).toMatchObject({ rowsRead: 247, fromSeq: 1_307, toSeq: 1_557, batchesByRow: 0 });
    expect(await landed()).toEqual(await coreEvents());
  });

  it('stores the landed payloads with zstd in a new warehouse, and as DuckDB chooses in one of an older format', async () => {
    const payloads = Array.from({ length: 3_000 }, (_, i) => ({ actor: 'demo', payload: JSON.stringify({ invoices: [{ id: i, number: `INV-${i}`, total_minor: (i * 7919) % 100_003 }] }) }));
    await addEvents(payloads);
    await ingestEvents(wh.conn, t.core.db, { runId: 'r1' });
    await wh.conn.run('checkpoint');
    const compression = async (conn: Warehouse['conn']) =>
      (await rowsJson(conn, `select distinct compression from pragma_storage_info('raw.events') where column_name = 'payload' and segment_type <> 'VALIDITY'`)).map((r) => r.compression);
    expect(await storesZstd(wh.conn)).toBe(true);
    expect(await compression(wh.conn)).toEqual(['ZSTD']);
    expect(await landed()).toEqual(await coreEvents());

    // A warehouse made before (DuckDB's default format) would store a column asked for zstd
    // uncompressed: its payloads are left to DuckDB's own choice.
    const older = await openWarehouse(path.join(dir, 'older.duckdb'), { defaultFormat: true });
    try {
      await ensureWarehouseSchema(older.conn);
      expect(await storesZstd(older.conn)).toBe(false);
      await older.conn.run(`attach ${lit(path.join(dir, 'warehouse.duckdb'))} as made (read_only)`);
      await older.conn.run('insert into raw.events select * from made.raw.events');
      await older.conn.run('detach made');
      await older.conn.run('checkpoint');
      const chosen = await compression(older.conn);
      expect(chosen.length).toBeGreaterThan(0);
      expect(chosen).not.toContain('Uncompressed');
      expect(chosen).not.toContain('ZSTD');
    } finally {
      older.close();
    }
  });

  it('loads nothing and keeps the watermark when nothing is new', async () => {
    const r = await ingestEvents(wh.conn, t.core.db, { runId: 'r1' });
    expect(r).toMatchObject({ rowsRead: 0, fromSeq: 0, toSeq: 0 });
    expect(await rowsJson(wh.conn, 'select count(*) as n from ops.watermarks')).toEqual([{ n: '0' }]);
  });
});
