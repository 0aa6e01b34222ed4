import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeCore, openCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { issueTimeFeatures } from '../../models/payment-date/features.ts';
import { HAZARD_MODEL, LINEAR_MODEL, replayMetrics, replayPaymentDates } from '../../models/payment-date/replay.ts';
import { paymentDateEvaluationText } from '../../models/payment-date/evaluation-text.ts';
import { MIN_SETTLED } from '../../models/cash-in/outlook.ts';

/**
 * The payment-date figures models/README.md quotes between `<!-- eval:payment-date -->` and
 * `<!-- /eval:payment-date -->` are what the evaluation prints for the pinned demo company
 * (seed 1, 20 customers × 26 months from 2024-01-01, as of its last month-end): both
 * candidates replayed on the invoices open at the last six month-ends, as the forecast step
 * replays them. This test builds that company through the core and the pipeline, recomputes
 * the block and fails when the README says something else.
 */
const PINNED = { seed: 1, customers: 20, months: 26, start: '2024-01-01' };

describe('models/README.md payment-date figures', () => {
  it('are the replay of the pinned demo company', async () => {
    const { generateDemo } = await import('../../src/demo/generator.ts');
    const { runPipeline } = await import('../../pipelines/run.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-payment-date-readme-'));
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
        const history = (await issueTimeFeatures(wh.conn)).filter((r) => r.invoice_date <= asOf);
        const replay = replayPaymentDates(history, asOf, { origins: 6, minSettled: MIN_SETTLED });
        expect(replay.dates.length).toBeGreaterThan(0);
        text = paymentDateEvaluationText(
          (['hazard', 'linear'] as const).flatMap((k) =>
            replayMetrics(replay, k).map((m) => ({ model: k === 'hazard' ? HAZARD_MODEL : LINEAR_MODEL, metric: m.metric, baseline: m.baseline, value: m.value, baselineValue: m.baselineValue, n: m.n })),
          ),
        );
      } finally {
        wh.close();
      }
      const readme = fs.readFileSync(path.join(import.meta.dirname, '../../models/README.md'), 'utf8');
      const block = /<!-- eval:payment-date -->\n([\s\S]*?)\n<!-- \/eval:payment-date -->/.exec(readme);
      expect(block, 'models/README.md has an eval:payment-date block').not.toBeNull();
      expect(block![1], `models/README.md eval:payment-date block; the evaluation prints:\n${text}`).toBe(text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
