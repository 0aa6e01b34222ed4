import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyOverDelta, loadModels } from '../../pipelines/transform/models.ts';

/** The declarations of an SQL model file, read as the transform reads them. */
describe('SQL model declarations', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function modelsOf(files: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-models-'));
    dirs.push(dir);
    for (const [file, sql] of Object.entries(files)) {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), sql);
    }
    return loadModels(dir);
  }
  const items = `-- table: items
-- incremental key: item_key
/* changed keys:
select 'core:' || id as item_key from delta_staging_core_invoices
*/
select 'core:' || id as item_key, customer_id, total_minor as cents from staging.core_invoices`;
  const totals = (header: string, from = 'metrics.items') => `-- table: totals
-- incremental key: customer_id
${header}
/* changed keys:
select customer_id from delta_metrics_items
*/
select customer_id, sum(cents) as cents, count(*) as n from ${from} as i group by all`;

  it('a sums model adds up one input: its delta replaces it in the SELECT, old or new rows', () => {
    const models = modelsOf({
      'metrics/items.sql': items,
      'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n'),
    });
    const t = models.find((m) => m.name === 'totals')!;
    expect(t.sums).toEqual(['cents', 'n']);
    expect(t.rowCount).toBe('n');
    expect(t.sumsInput).toBe('metrics.items');
    expect(models.map((m) => m.name)).toEqual(['items', 'totals']);
    expect(bodyOverDelta(t, 'new')).toContain(`from (select * exclude (_change) from delta_metrics_items where _change = 'new') as i group by all`);
    expect(bodyOverDelta(t, 'old')).toContain(`where _change = 'old'`);
    expect(bodyOverDelta(t, 'old')).not.toContain('metrics.items');
  });

  it('refuses sums without a row count, a row count that is not a sum, and sums without a key', () => {
    expect(() => modelsOf({ 'metrics/items.sql': items, 'metrics/totals.sql': totals('-- incremental sums: cents, n') })).toThrow(/incremental row count/);
    expect(() => modelsOf({ 'metrics/items.sql': items, 'metrics/totals.sql': totals('-- incremental sums: cents\n-- incremental row count: n') })).toThrow(/incremental row count/);
    expect(() => modelsOf({ 'metrics/t.sql': '-- table: t\n-- incremental sums: n\n-- incremental row count: n\nselect count(*) as n from metrics.items' })).toThrow(/needs an "-- incremental key:"/);
  });

  it('refuses a sums model whose input is read twice or has no delta it follows', () => {
    expect(() =>
      modelsOf({
        'metrics/items.sql': items,
        'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n', 'metrics.items as i1 join metrics.items'),
      }),
    ).toThrow(/exactly one table whose delta/);
    expect(() =>
      modelsOf({
        'metrics/items.sql': items,
        'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n', 'staging.core_invoices'),
      }),
    ).toThrow(/exactly one table whose delta/);
  });
});
