import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';

/** A customer's score as the core's `applyCreditScores` takes it (src/credit/score.service.ts). */
export interface HandedBackScore {
  customerId: number;
  riskClass: 'A' | 'B' | 'C' | 'D' | 'E';
  score: number;
  suggestedLimitMinor: number;
  reasons: string[];
}

/**
 * Hands the credit scores of the published warehouse (`forecast.customer_scores`, latest or
 * given as_of) back to the core, for the customers that came from the core. The scores enter
 * through `apply`, the core's own service call, which the caller passes in
 * (`(scores) => applyCreditScores(core, scores, actor)`): the models read the warehouse and
 * never call the core themselves. The credit check uses the risk class from the next order on.
 */
export async function writeBackScores(
  apply: (scores: HandedBackScore[]) => Promise<{ updated: number }>,
  snapshotFile: string,
  asOf?: string,
): Promise<{ asOf: string | null; updated: number; byClass: Record<string, number> }> {
  const wh = await openWarehouse(snapshotFile, { readOnly: true });
  let rows: Record<string, unknown>[];
  try {
    rows = await rowsJs(
      wh.conn,
      `select as_of::varchar as as_of, customer_id, score, risk_class, suggested_limit_cents, reasons from forecast.customer_scores
       where source = 'core' and as_of = ${asOf ? `date '${asOf.replace(/[^0-9-]/g, '')}'` : '(select max(as_of) from forecast.customer_scores)'}`,
    );
  } finally {
    wh.close();
  }
  const scores: HandedBackScore[] = rows
    .filter((r) => /^\d+$/.test(String(r.customer_id)))
    .map((r) => ({
      customerId: Number(r.customer_id),
      riskClass: String(r.risk_class) as HandedBackScore['riskClass'],
      score: Number(r.score),
      suggestedLimitMinor: Number(r.suggested_limit_cents),
      reasons: (JSON.parse(String(r.reasons)) as { text: string; points: number }[]).map((x) => `${x.text} (${x.points})`),
    }));
  const { updated } = await apply(scores);
  const byClass: Record<string, number> = {};
  for (const s of scores) byClass[s.riskClass] = (byClass[s.riskClass] ?? 0) + 1;
  return { asOf: (rows[0]?.as_of as string | undefined) ?? null, updated, byClass };
}
