import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { SNAPSHOT_FILES } from '../../pipelines/publish.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse, rowsJson, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { dumpSchemas, Ledger, parquetDifferences, tempDir } from './ledger.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const OPEN_INVOICES = `select count(*) as n, sum(open_cents) as open from marts.fct_invoices`;

/**
 * A reader in a process of its own: opens the snapshot read-only and answers OPEN_INVOICES
 * each time it is asked, on the same open database, until its input ends.
 */
function reader(file: string): { child: ChildProcessWithoutNullStreams; ask: () => Promise<string> } {
  const code = `
    import { DuckDBInstance } from '@duckdb/node-api';
    import readline from 'node:readline';
    const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const answer = async () => console.log(JSON.stringify((await conn.runAndReadAll(${JSON.stringify(OPEN_INVOICES)})).getRowObjectsJson()));
    await answer();
    for await (const _ of readline.createInterface({ input: process.stdin })) await answer();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repo });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('the reader process ended');
    return String(r.value);
  };
  let first: Promise<string> | null = next();
  return {
    child,
    ask: async () => {
      if (first) {
        const f = first;
        first = null;
        return f;
      }
      child.stdin.write('again\n');
      return next();
    },
  };
}

async function openInvoices(file: string): Promise<string> {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    return JSON.stringify(await rowsJson(wh.conn, OPEN_INVOICES));
  } finally {
    wh.close();
  }
}

describe(`publishing the snapshot without copying it whole (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  const run = () => runPipeline({ dataDir: dir, coreUrl: t.url, asOf: '2026-03-31', quiet: true });
  beforeEach(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    dir = tempDir();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('two snapshot files take turns: after the second publish each one is updated in place, and equals the warehouse', async () => {
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const paths = warehousePaths(dir);
    const [a, b] = SNAPSHOT_FILES.map((f) => path.join(paths.published, f)) as [string, string];
    const schemas = ['marts', 'metrics'];
    const seen: { fresh: boolean; copied: boolean; file: string }[] = [];
    for (let k = 0; k < 5; k++) {
      const inv = await l.invoice(c1, `INV${k}`, `2026-0${1 + (k % 3)}-1${k}`, `2026-0${2 + (k % 3)}-1${k}`, 10_000 * (k + 1));
      if (k > 0) await l.payment(c1, '2026-03-2' + String(k), 1_000, [[inv, 1_000]]);
      const r = await run();
      const ino = fs.statSync(paths.snapshot).ino;
      seen.push({ fresh: r.published!.freshSnapshot, copied: r.published!.snapshotCopied, file: ino === fs.statSync(a).ino ? 'a' : ino === fs.statSync(b).ino ? 'b' : '?' });
      // What analysts read is what the run built, in the snapshot and in the Parquet copies.
      expect(await dumpSchemas(paths.snapshot, schemas)).toEqual(await dumpSchemas(paths.warehouse, schemas));
      expect(await parquetDifferences(dir)).toEqual({});
    }
    expect(seen).toEqual([
      { fresh: true, copied: false, file: 'a' },
      // The second publish has no second file yet: it copies the first once.
      { fresh: false, copied: true, file: 'b' },
      { fresh: false, copied: false, file: 'a' },
      { fresh: false, copied: false, file: 'b' },
      { fresh: false, copied: false, file: 'a' },
    ]);
    // A run with nothing new changes nothing readers see; the other file still catches up with the last change.
    const idle = await run();
    expect(idle.published).toMatchObject({ tablesChanged: [], partsWritten: 0, snapshotCopied: false });
    expect(idle.published!.snapshotPartsCaughtUp).toBeGreaterThan(0);
    expect(await dumpSchemas(paths.snapshot, schemas)).toEqual(await dumpSchemas(paths.warehouse, schemas));
    // Nothing else is left beside them.
    expect(fs.readdirSync(paths.published).filter((f) => f.endsWith('.duckdb')).sort()).toEqual([...SNAPSHOT_FILES, 'warehouse.duckdb'].sort());
  }, 240_000);

  it('a reader holding an older snapshot open keeps reading it: the publish that would reuse that file copies the current one instead', async () => {
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const paths = warehousePaths(dir);
    await l.invoice(c1, 'INV0', '2026-01-10', '2026-02-09', 10_000);
    await run();
    await l.invoice(c1, 'INV1', '2026-01-11', '2026-02-10', 20_000);
    await run();
    const before = await openInvoices(paths.snapshot);

    // A reader in another process holds the current file (b): DuckDB's lock keeps the publish out of it.
    const other = reader(paths.snapshot);
    children.push(other.child);
    expect(await other.ask()).toBe(before);
    let here: Awaited<ReturnType<typeof openWarehouse>> | null = null;
    let hereSaw = '';
    const copied: boolean[] = [];
    try {
      for (let k = 2; k < 6; k++) {
        await l.invoice(c1, `INV${k}`, '2026-02-1' + String(k), '2026-03-1' + String(k), 1_000 * k);
        const r = await run();
        copied.push(r.published!.snapshotCopied);
        expect(await other.ask()).toBe(before);
        if (here) expect(JSON.stringify(await rowsJson(here.conn, OPEN_INVOICES))).toBe(hereSaw);
        expect(await dumpSchemas(paths.snapshot, ['marts', 'metrics'])).toEqual(await dumpSchemas(paths.warehouse, ['marts', 'metrics']));
        if (k === 2) {
          // A reader in this process holds the file just published (a): no lock between the two in one process.
          here = await openWarehouse(paths.snapshot, { readOnly: true });
          hereSaw = JSON.stringify(await rowsJson(here.conn, OPEN_INVOICES));
        }
      }
    } finally {
      (here as Awaited<ReturnType<typeof openWarehouse>> | null)?.close();
    }
    // k=2 writes a in place; k=3 would write b (the other process reads it) and k=4 a (this one does):
    // both copy the current snapshot instead; k=5 writes the fresh copy b in place again.
    expect(copied).toEqual([false, true, true, false]);
    expect(await openInvoices(paths.snapshot)).toBe(await openInvoices(paths.warehouse));
    expect(await openInvoices(paths.snapshot)).not.toBe(before);
  }, 240_000);
});
