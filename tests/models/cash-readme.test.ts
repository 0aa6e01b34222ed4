import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeCore, openCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';
import { cashEvaluationText } from '../../models/cash-in/evaluation-text.ts';

/**
 * The cash-in figures models/README.md quotes between `<!-- eval:cash -->` and
 * `<!-- /eval:cash -->` are what `npm run eval` prints for the pinned demo company (seed 1,
 * 20 customers × 26 months from 2024-01-01, as of its last month-end: the company the sales
 * block is pinned to). This test builds that company through the core and the pipeline, runs
 * the forecast step (which replays the cash-in forecast walking forward), rebuilds the block
 * and fails when the README says something else.
 */
const PINNED = { seed: 1, customers: 20, months: 26, start: '2024-01-01' };

/** The block as the README holds it: the printed lines in a code fence. */
const cashBlock = (text: string) => `\`\`\`text\n${text}\n\`\`\``;

describe('models/README.md cash-in figures', () => {
  it('are the evaluation of the pinned demo company', async () => {
    const { generateDemo } = await import('../../src/demo/generator.ts');
    const { runPipeline } = await import('../../pipelines/run.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-cash-readme-'));
    try {
      const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
      const clock = new ManualClock(`${PINNED.start}T07:00:00Z`);
      const core = await openCore({ url, clock });
      const demo = await generateDemo(core, clock, PINNED);
      await closeCore(core);
      const asOf = demo.manifest.end;
      expect(asOf).toBe('2026-02-28');
      await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['ingest', 'transform', 'forecast'] });
      const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { readOnly: true });
      let text: string;
      try {
        const rows = await rowsJs(wh.conn, `select model, metric, baseline, value, baseline_value, invoices, months from forecast.model_evaluations where model like 'cash-in/%' order by model, metric, baseline`);
        text = cashEvaluationText(rows.map((r) => ({ model: String(r.model), metric: String(r.metric), baseline: String(r.baseline), value: r.value === null ? null : Number(r.value), baselineValue: r.baseline_value === null ? null : Number(r.baseline_value), weeks: Number(r.invoices), origins: Number(r.months) })));
      } finally {
        wh.close();
      }
      expect(text).toContain('cash-in EUR:');
      const readme = fs.readFileSync(path.join(import.meta.dirname, '../../models/README.md'), 'utf8');
      const block = /<!-- eval:cash -->\n([\s\S]*?)\n<!-- \/eval:cash -->/.exec(readme);
      expect(block, 'models/README.md has an eval:cash block').not.toBeNull();
      expect(block![1], `models/README.md eval:cash block; the evaluation prints:\n${cashBlock(text)}`).toBe(cashBlock(text));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
