import path from 'node:path';
import type { Command } from 'commander';
import { applyCreditScores } from '../../credit/score.service.ts';
import { dataDir } from '../../db/connection.ts';
import { cliActor, withCore } from '../context.ts';
import { emit } from '../output.ts';

/** `cashloop credit apply-scores`: the models' risk classes back into the core. */
export function registerScores(program: Command): void {
  const credit = program.commands.find((c) => c.name() === 'credit') ?? program.command('credit');
  credit
    .command('apply-scores')
    .description("set customers' risk classes from the published credit scores (forecast.customer_scores)")
    .option('--as-of <date>', 'scores of this as-of date (default: the latest)')
    .option('--json')
    .action(async (o: { asOf?: string; json?: boolean }) =>
      withCore(async (core) => {
        const { writeBackScores } = await import('../../../models/credit-score/write-back.ts');
        const actor = cliActor();
        const r = await writeBackScores((scores) => applyCreditScores(core, scores, actor, { asOf: o.asOf }), path.join(dataDir(), 'published', 'warehouse.duckdb'), o.asOf);
        emit(r, o, (x) => `risk classes of ${x.updated} customers set from the scores as of ${x.asOf ?? '-'}: ${Object.entries(x.byClass).sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }),
    );
}
