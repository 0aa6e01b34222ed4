import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';

describe(`cashloop demo (CLI, ${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('generates, summarises, refuses a second run, and exports the canonical extract', async () => {
    const env = cliEnv(t.url, t.dataDir, '2026-01-05T09:00:00Z');
    const bad = await cli(['demo', 'generate', '--months', 'two'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--months must be a whole number');

    const run = await cli(['demo', 'generate', '--customers', '8', '--months', '2', '--seed', '3', '--start', '2025-03-01'], env);
    expect(run.code, run.stderr).toBe(0);
    // No TTY: no bar, but plain progress lines every 30 simulated days and at the end.
    expect(run.stderr.trim().split('\n').map((l) => l.replace(/, \d+ orders, \d+ s$/, ''))).toEqual(['simulating days: 30/61 (49 %)', 'simulating days: 60/61 (98 %)', 'simulating days: 61/61 (100 %)']);
    expect(run.stdout).toContain('demo company generated: seed 3, 8 customers, 2 months (2025-03-01 … 2025-04-30)');
    expect(run.stdout).toMatch(/orders\/s/);
    expect(run.stdout).toContain('(balanced)');
    expect(run.stdout).toMatch(/stops_paying\s+\d+/);
    const manifest = JSON.parse(fs.readFileSync(path.join(t.dataDir, 'demo-manifest.json'), 'utf8')) as { seed: number; customerHabits: unknown[] };
    expect(manifest.seed).toBe(3);
    expect(manifest.customerHabits).toHaveLength(8);

    const again = await cli(['demo', 'generate', '--customers', '8'], env);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('is not empty');

    const dir = path.join(t.dataDir, 'extract');
    const exported = await cli(['demo', 'export', dir, '--json'], env);
    expect(exported.code, exported.stderr).toBe(0);
    const files = (JSON.parse(exported.stdout) as { files: { file: string; rows: number }[] }).files;
    expect(files.find((f) => f.file === 'customers.csv')?.rows).toBe(8);
    expect(fs.readFileSync(path.join(dir, 'invoices.csv'), 'utf8').split('\n')[0]).toBe('invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date');
  });
});
