import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreColumns, type ColumnKind } from '../../src/db/columns.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { createCreditNote, writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute } from '../../src/collections/dispute.service.ts';
import { loadRates, parseRatesCsv } from '../../src/rates/rates.service.ts';
import { openWarehouse, rowsJson, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { coreColumnsNotStaged, coreTables, ensureWarehouseSchema } from '../../pipelines/schema.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { readWarehouse, tempDir } from '../pipelines/ledger.ts';

/**
 * The core's tables are spelled out in three places: the Kysely interfaces (src/db/schema.ts,
 * held by the type checker to the map in src/db/columns.ts), the migrations, and the
 * warehouse's core staging (pipelines/schema.ts, read by pipelines/transform/core-staging.ts).
 * This suite holds the other two to the map, column by column and kind by kind.
 */

type Shape = Record<string, Record<string, string>>;

const sorted = (shape: Shape): Shape => Object.fromEntries(Object.keys(shape).sort().map((t) => [t, Object.fromEntries(Object.keys(shape[t]!).sort().map((c) => [c, shape[t]![c]!]))]));

/** The map as plain `table → column → kind`. */
const expected: Shape = sorted(coreColumns as unknown as Shape);

/** How each database spells the two kinds of column (money is `bigint` on PostgreSQL). */
const KIND: Record<string, ColumnKind> = { integer: 'integer', bigint: 'integer', text: 'text' };

async function migratedShape(t: TestCore): Promise<Shape> {
  const shape: Shape = {};
  if (t.core.db.dialect === 'postgres') {
    const rows = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns
      where table_schema = current_schema() and table_name <> 'schema_migrations'`.execute(t.core.db.kysely);
    for (const r of rows.rows) (shape[r.table_name] ??= {})[r.column_name] = KIND[r.data_type] ?? `unexpected type ${r.data_type}`;
  } else {
    const tables = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' and name <> 'schema_migrations'`.execute(t.core.db.kysely);
    for (const { name } of tables.rows) {
      const cols = await sql<{ name: string; type: string }>`select name, type from pragma_table_info(${name})`.execute(t.core.db.kysely);
      shape[name] = Object.fromEntries(cols.rows.map((c) => [c.name, KIND[c.type.toLowerCase()] ?? `unexpected type ${c.type}`]));
    }
  }
  return sorted(shape);
}

describe(`the core's table shapes agree in the schema types, the migrations and the warehouse (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    dir = tempDir();
  });
  afterAll(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the migrated database has exactly the tables and columns of the schema types, each of its kind', async () => {
    expect(await migratedShape(t)).toEqual(expected);
  });

  it("the warehouse stages, of each core table it keeps, every column as its kind or names it as left out", async () => {
    const file = `${dir}/shapes.duckdb`;
    const wh = await openWarehouse(file);
    let staged: { table_name: string; column_name: string; data_type: string }[];
    try {
      await ensureWarehouseSchema(wh.conn);
      staged = (await rowsJson(
        wh.conn,
        `select table_name, column_name, data_type from information_schema.columns where table_schema = 'staging' and table_name like 'core\\_%' escape '\\'`,
      )) as typeof staged;
    } finally {
      wh.close();
    }
    const duck: Record<string, ColumnKind> = { BIGINT: 'integer', VARCHAR: 'text' };
    const warehouse: Shape = {};
    for (const r of staged) {
      if (r.column_name === '_seq') continue;
      (warehouse[r.table_name.replace(/^core_/, '')] ??= {})[r.column_name] = duck[r.data_type] ?? `unexpected type ${r.data_type}`;
    }
    expect(Object.keys(warehouse).sort()).toEqual(Object.keys(coreTables).sort());
    for (const [table, columns] of Object.entries(sorted(warehouse))) {
      const core = expected[table];
      expect(core, `staging.core_${table} has no core table`).toBeDefined();
      const leftOut = Object.keys((coreColumnsNotStaged as Record<string, Record<string, string> | undefined>)[table] ?? {});
      // Staged and left-out columns are disjoint and together make up the core table.
      expect(leftOut.filter((c) => c in columns), `staging.core_${table}: staged and listed as left out`).toEqual([]);
      expect([...Object.keys(columns), ...leftOut].sort(), `staging.core_${table}: core columns neither staged nor left out`).toEqual(Object.keys(core!).sort());
      // Each staged column has the core's kind.
      expect(columns).toEqual(Object.fromEntries(Object.keys(columns).map((c) => [c, core![c]])));
    }
  });

  it("core staging holds every staged column of what the core's services wrote, value for value", async () => {
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    const deliver = async (quantity: number) => {
      const order = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity }] }, actor);
      await submitOrder(core, order.id, actor);
      const shipment = await createShipment(core, { orderId: order.id, carrier: 'DHL', trackingNumber: `T${order.id}` }, actor);
      clock.advanceDays(1);
      await deliverShipment(core, shipment.id, { signedBy: 'J. Doe' }, actor);
    };
    await deliver(10); // INV-2026-000001: 150.00
    await deliver(4); // INV-2026-000002: 60.00
    clock.advanceDays(5);
    await recordPayment(core, { customerId: customer.id, amount: '148.00', reference: 'INV-2026-000001' }, actor);
    await writeOffInvoice(core, 'INV-2026-000001', 'short payment', actor);
    await createCreditNote(core, { invoice: 'INV-2026-000002', amount: '10.00', reason: 'damaged box', kind: 'price_correction' }, actor);
    clock.advanceDays(45);
    const reminders = await runReminders(core, actor, { send: false });
    expect(reminders.messages.length).toBeGreaterThan(0);
    await openDispute(core, { invoice: 'INV-2026-000002', reason: 'one box arrived open', amount: '5.00' }, actor);
    const inAWeek = new Date(clock.now().getTime() + 7 * 86_400_000).toISOString().slice(0, 10);
    await recordPromise(core, { customerId: customer.id, invoices: ['INV-2026-000002'], date: inAWeek, promisedBy: 'A. Buyer' }, actor);
    await loadRates(core, parseRatesCsv('Date,USD,JPY,\n2026-02-20,1.0856,161.23,\n', 'EUR'), 'rates.csv', actor);
    const asOf = clock.now().toISOString().slice(0, 10);
    await runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true, steps: ['ingest', 'transform'], asOf });

    const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
    for (const [table, columns] of Object.entries(coreTables)) {
      const names = Object.keys(columns);
      const inCore = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by id`.execute(core.db.kysely);
      const fromCore = inCore.rows.map((r) => Object.fromEntries(names.map((c) => [c, text(r[c])])));
      const fromWarehouse = (await readWarehouse(warehousePaths(dir).warehouse, `select ${names.map((c) => `"${c}"`).join(', ')} from staging.core_${table} order by id`)).map((r) =>
        Object.fromEntries(names.map((c) => [c, text(r[c])])),
      );
      expect(fromCore.length, `${table}: the scenario writes rows`).toBeGreaterThan(0);
      expect(fromWarehouse, `staging.core_${table}`).toEqual(fromCore);
    }
  }, 120_000);
});
