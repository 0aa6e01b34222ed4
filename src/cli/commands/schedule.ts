import type { Command } from 'commander';
import { dataDir } from '../../db/connection.ts';
import { emit } from '../output.ts';

export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('run the pipeline jobs on their cron expressions (<data dir>/schedule.json, default: everything every 15 minutes) until stopped')
    .option('--config <file>', 'schedule file: {"jobs":[{"name","cron","steps","extract","mapping","retries","backoffMs"}]}')
    .option('--once <job>', 'run this job once now (same locking and retries) and exit')
    .option('--json', 'print JSON (with --once)')
    .action(async (opts: { config?: string; once?: string; json?: boolean }) => {
      const { loadScheduleConfig, Scheduler } = await import('../../../pipelines/schedule.ts');
      const dir = dataDir();
      const { config } = loadScheduleConfig(dir, opts.config);
      const scheduler = new Scheduler({ dataDir: dir, config });
      if (opts.once) {
        const outcome = await scheduler.runJob(opts.once);
        emit(outcome, opts, (o) => (o.status === 'skipped' ? `${o.job}: skipped (${o.reason})` : o.status === 'failed' ? `${o.job}: failed after ${o.attempts} attempt(s): ${o.error}` : `${o.job}: succeeded (run ${o.result.runId})`));
        if (outcome.status === 'failed') process.exitCode = 1;
        return;
      }
      scheduler.start();
      await new Promise<void>((resolve) => {
        const stop = () => {
          void scheduler.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
