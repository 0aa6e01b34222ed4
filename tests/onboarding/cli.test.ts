import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');

describe(`import and bank commands (${testDialect})`, () => {
  let t: TestCore;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestCore('2026-03-05T09:00:00Z');
    env = cliEnv(t.url, t.dataDir, '2026-03-05T09:00:00Z');
  });
  afterAll(async () => t.cleanup());

  it('imports a canonical folder and prints the tie-out', async () => {
    const r = await cli(['import', 'folder', path.join(fixtures, 'onboarding/canonical')], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported customers from .*customers\.csv \(csv\)\nrows read 3, accepted 3, rejected 0; created 3, already there 0/);
    expect(r.stdout).toMatch(/imported orders from .*order_lines\.csv/);
    expect(r.stdout).toMatch(/C001 +EUR +900\.00 +900\.00 +yes/);
    expect(r.stdout).toMatch(/folder tie-out — open receivables per customer after all files[^]*C003 +USD +1,499\.99 +1,499\.99 +yes[^]*tie-out: agrees for all 3 customers\s*$/);
    const again = JSON.parse((await cli(['import', 'folder', path.join(fixtures, 'onboarding/canonical'), '--json'], env)).stdout) as { files: { created: number }[]; tieOutAgrees: boolean };
    expect(again.files.map((f) => f.created)).toEqual([0, 0, 0, 0, 0]);
    expect(again.tieOutAgrees).toBe(true);
  });

  it('a broken file exits 2 naming each row and field; --json carries the problems', async () => {
    const r = await cli(['import', 'invoices', path.join(fixtures, 'onboarding/invoices-broken.csv')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/6 of 10 invoices rows rejected; nothing was written/);
    expect(r.stderr).toMatch(/- row 4 \(line 5\): amount -5\.00 is negative/);
    const j = await cli(['import', 'invoices', path.join(fixtures, 'onboarding/invoices-broken.csv'), '--json'], env);
    expect(JSON.parse(j.stderr).problems).toHaveLength(7);
  });

  it('a single file gives a blank customer to the catch-all customer and an unknown one a stand-in, and says so', async () => {
    const dir = path.join(t.dataDir, 'single');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'invoices.csv'), 'invoice_id,customer_id,invoice_date,due_date,amount,currency\nS-1,,2026-01-15,2026-02-14,12.50,EUR\nS-2,Z77,2026-01-15,2026-02-14,30.00,EUR\n');
    const r = await cli(['import', 'invoices', path.join(dir, 'invoices.csv')], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/customers not in the customers file, given a stand-in customer: 1 \(Z77\)/);
    expect(r.stdout).toMatch(/rows with a blank customer id, given to the catch-all customer UNKNOWN \(Unknown customer \(from the extract\)\): 1 \(12\.50 EUR\)/);
    expect(r.stdout).toMatch(/UNKNOWN \(catch-all\) +EUR +12\.50 +12\.50 +yes/);
  });

  it('imports a camt.053 statement, lists the unmatched entry and matches it by hand', async () => {
    const folder = path.join(t.dataDir, 'bank');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'customers.csv'), 'customer_id,name,currency,iban\nC1,Acme GmbH,EUR,DE89370400440532013000\nC2,Beta AG,EUR,DE02120300000000202051\nC3,Gamma SARL,EUR,\n');
    fs.writeFileSync(path.join(folder, 'invoices.csv'), 'invoice_id,customer_id,invoice_date,due_date,amount\nAR-10001,C1,2026-01-15,2026-02-14,150.00\nAR-10002,C1,2026-01-15,2026-02-14,80.00\nAR-10003,C2,2026-01-15,2026-02-14,240.50\nAR-10004,C3,2026-01-15,2026-02-14,99.00\nAR-10005,C2,2026-01-15,2026-02-14,60.00\n');
    expect((await cli(['import', 'folder', folder], env)).code).toBe(0);
    const r = await cli(['bank', 'import', path.join(fixtures, 'bank/camt053-2026-03-02.xml')], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/matched 4, unmatched 1, returns reversed 1, other debits ignored 1, already imported 0/);
    const unmatched = JSON.parse((await cli(['bank', 'unmatched', '--json'], env)).stdout) as { id: number; payerName: string }[];
    expect(unmatched.map((u) => u.payerName)).toEqual(['Zeta Trading Ltd']);
    const m = await cli(['bank', 'match', String(unmatched[0]!.id), '--invoice', 'AR-10005'], env);
    expect(m.stdout).toMatch(/matched to IMP-AR-10005: payment \d+ of 42\.00 EUR/);
    const again = await cli(['bank', 'import', path.join(fixtures, 'bank/camt053-2026-03-02.xml')], env);
    expect(again.stdout).toMatch(/matched 0, unmatched 0, returns reversed 0, other debits ignored 0, already imported 7/);
  });
});
