import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeCore, openCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { computeSalesForecast, evaluateLevels } from '../../models/sales/forecast.ts';
import { salesEvaluationText } from '../../models/sales/evaluation-text.ts';

/**
 * The sales figures models/README.md quotes between `<!-- eval:sales -->` and
 * `<!-- /eval:sales -->` are what the evaluation prints for the pinned demo company
 * (seed 1, 20 customers × 26 months from 2024-01-01, as of its last month-end). This test
 * builds that company through the core and the pipeline, recomputes the block and fails
 * when the README says something else.
 */
const PINNED = { seed: 1, customers: 20, months: 26, start: '2024-01-01' };

describe('models/README.md sales figures', () => {
  it('are the evaluation of the pinned demo company', async () => {
    const { generateDemo } = await import('../../src/demo/generator.ts');
    const { runPipeline } = await import('../../pipelines/run.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-sales-readme-'));
    try {
      const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
      const clock = new ManualClock(`${PINNED.start}T07:00:00Z`);
      const core = await openCore({ url, clock });
      const demo = await generateDemo(core, clock, PINNED);
      await closeCore(core);
      const asOf = demo.manifest.end;
      expect(asOf).toBe('2026-02-28');
      await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['ingest', 'transform'] });
      const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { readOnly: true });
      let text: string;
      try {
        const levels = evaluateLevels(await computeSalesForecast(wh.conn, asOf));
        text = salesEvaluationText(levels.flatMap((l) => l.metrics.map((m) => ({ level: l.level, metric: m.metric, baseline: m.baseline, value: m.value, baselineValue: m.baselineValue }))));
      } finally {
        wh.close();
      }
      const readme = fs.readFileSync(path.join(import.meta.dirname, '../../models/README.md'), 'utf8');
      const block = /<!-- eval:sales -->\n([\s\S]*?)\n<!-- \/eval:sales -->/.exec(readme);
      expect(block, 'models/README.md has an eval:sales block').not.toBeNull();
      expect(block![1], `models/README.md eval:sales block; the evaluation prints:\n${text}`).toBe(text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
