import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCore, openCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openWarehouse, rowsJs, type Warehouse } from '../../src/warehouse/warehouse.ts';
import { computeSalesForecast, evaluateLevels } from '../../models/sales/forecast.ts';
import { salesEvaluationText } from '../../models/sales/evaluation-text.ts';
import { issueTimeFeatures } from '../../models/payment-date/features.ts';
import { HAZARD_MODEL, LINEAR_MODEL, replayMetrics, replayPaymentDates } from '../../models/payment-date/replay.ts';
import { paymentDateEvaluationText } from '../../models/payment-date/evaluation-text.ts';
import { MIN_SETTLED } from '../../models/cash-in/outlook.ts';
import { cashEvaluationText } from '../../models/cash-in/evaluation-text.ts';

/**
 * The figures models/README.md quotes between `<!-- eval:sales -->`, `<!-- eval:payment-date -->`
 * and `<!-- eval:cash -->` and their closing marks are what `npm run eval` prints for the pinned
 * demo company (seed 1, 20 customers × 26 months from 2024-01-01, as of its last month-end,
 * 2026-02-28). This file builds that company once through the core and the pipeline (ingest,
 * transform and the forecast step, which replays the cash-in forecast walking forward),
 * recomputes each block and fails when the README says something else; the message shows what
 * the evaluation prints, to paste in.
 */
const PINNED = { seed: 1, customers: 20, months: 26, start: '2024-01-01' };
const README = path.join(import.meta.dirname, '../../models/README.md');

/** The text between `<!-- eval:NAME -->` and `<!-- /eval:NAME -->` in models/README.md. */
function block(name: string): string {
  const found = new RegExp(`<!-- eval:${name} -->\\n([\\s\\S]*?)\\n<!-- /eval:${name} -->`).exec(fs.readFileSync(README, 'utf8'));
  expect(found, `models/README.md has an eval:${name} block`).not.toBeNull();
  return found![1]!;
}

let dir = '';
let asOf = '';
let wh: Warehouse | undefined;

beforeAll(async () => {
  const { generateDemo } = await import('../../src/demo/generator.ts');
  const { runPipeline } = await import('../../pipelines/run.ts');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-readme-figures-'));
  const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
  const clock = new ManualClock(`${PINNED.start}T07:00:00Z`);
  const core = await openCore({ url, clock });
  const demo = await generateDemo(core, clock, PINNED);
  await closeCore(core);
  asOf = demo.manifest.end;
  await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['ingest', 'transform', 'forecast'] });
  wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { readOnly: true });
}, 900_000);

afterAll(() => {
  wh?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('models/README.md figures of the pinned demo company', () => {
  it('is the pinned company, as of its last month-end', () => {
    expect(asOf).toBe('2026-02-28');
  });

  it('sales: the evaluation of every level', async () => {
    const levels = evaluateLevels(await computeSalesForecast(wh!.conn, asOf));
    const text = salesEvaluationText(levels.flatMap((l) => l.metrics.map((m) => ({ level: l.level, metric: m.metric, baseline: m.baseline, value: m.value, baselineValue: m.baselineValue }))));
    expect(block('sales'), `models/README.md eval:sales block; the evaluation prints:\n${text}`).toBe(text);
  });

  it('payment date: both candidates replayed on the invoices open at the last six month-ends', async () => {
    const history = (await issueTimeFeatures(wh!.conn)).filter((r) => r.invoice_date <= asOf);
    const replay = replayPaymentDates(history, asOf, { origins: 6, minSettled: MIN_SETTLED });
    expect(replay.dates.length).toBeGreaterThan(0);
    const text = paymentDateEvaluationText(
      (['hazard', 'linear'] as const).flatMap((k) =>
        replayMetrics(replay, k).map((m) => ({ model: k === 'hazard' ? HAZARD_MODEL : LINEAR_MODEL, metric: m.metric, baseline: m.baseline, value: m.value, baselineValue: m.baselineValue, n: m.n })),
      ),
    );
    expect(block('payment-date'), `models/README.md eval:payment-date block; the evaluation prints:\n${text}`).toBe(text);
  });

  it('cash-in: the 13 weeks replayed at past month-ends', async () => {
    const rows = await rowsJs(wh!.conn, `select model, metric, baseline, value, baseline_value, invoices, months from forecast.model_evaluations where model like 'cash-in/%' order by model, metric, baseline`);
    const text = `\`\`\`text\n${cashEvaluationText(rows.map((r) => ({ model: String(r.model), metric: String(r.metric), baseline: String(r.baseline), value: r.value === null ? null : Number(r.value), baselineValue: r.baseline_value === null ? null : Number(r.baseline_value), weeks: Number(r.invoices), origins: Number(r.months) })))}\n\`\`\``;
    expect(text).toContain('cash-in EUR:');
    expect(block('cash'), `models/README.md eval:cash block; the evaluation prints:\n${text}`).toBe(text);
  });
});
