import type { Command } from 'commander';
import { dataDir } from '../../db/connection.ts';
import { emit } from '../output.ts';
import { cliActor, withCore } from '../context.ts';

/** Tasks the schedule may name besides the pipeline: the collections runs, through the core. */
const collectionTasks = {
  'collections-reminders': async () =>
    withCore(async (core) => {
      const { runReminders } = await import('../../collections/reminder.service.ts');
      const r = await runReminders(core, cliActor());
      return { summary: `reminder run as of ${r.asOf}: ${r.messages.length} reminders${r.sent !== null ? `, sent ${r.sent}, failed ${r.failed}` : ' in the outbox'}` };
    }),
  'collections-statement-run': async () =>
    withCore(async (core) => {
      const { runMonthlyStatements } = await import('../../collections/statement-run.service.ts');
      const r = await runMonthlyStatements(core, cliActor());
      return { summary: `statement run for ${r.month}: ${r.statements.length} statements written, ${r.skipped} already there` };
    }),
};

/** The API's housekeeping: Idempotency-Keys past their period are deleted. */
const apiTasks = {
  'idempotency-purge': async () =>
    withCore(async (core) => {
      const { purgeExpiredKeys } = await import('../../idempotency/idempotency.service.ts');
      const r = await purgeExpiredKeys(core);
      return { summary: `idempotency keys expired by ${r.asOf}: ${r.deleted} deleted` };
    }),
  'notifications-raise': async () =>
    withCore(async (core) => {
      const { raiseNotifications } = await import('../../notifications/notification.service.ts');
      const r = await raiseNotifications(core, cliActor());
      return { summary: `notifications: ${r.raised} raised` };
    }),
  'notification-digest': async () =>
    withCore(async (core) => {
      const { runNotificationDigest } = await import('../../notifications/digest.service.ts');
      const { configuredSmtp, sendOutbox } = await import('../../collections/outbox.service.ts');
      const r = await runNotificationDigest(core, cliActor());
      const sent = configuredSmtp() && r.digests.length > 0 ? await sendOutbox(core, cliActor()) : null;
      return { summary: `notification digest of ${r.date}: ${r.digests.length} written${sent ? `, sent ${sent.sent}, failed ${sent.failed}` : ' in the outbox'}, ${r.alreadyWritten.length} already written, ${r.withoutEmail.length} user(s) without an e-mail address` };
    }),
  'prepayments-release': async () =>
    withCore(async (core) => {
      const { releaseAllPrepaidOrders } = await import('../../credit/credit.service.ts');
      const released = await releaseAllPrepaidOrders(core, cliActor());
      return { summary: `prepayments: ${released.length} order(s) released${released.length ? ` (${released.join(', ')})` : ''}` };
    }),
};

export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('run the jobs on their cron expressions (<data dir>/schedule.json; default: the pipeline every 15 minutes, reminders daily at 06:00, the monthly statement run (job statement-run, formerly statements) on the 1st, expired Idempotency-Keys deleted hourly, notifications raised at 06:30 and their digest e-mailed at 07:00, prepayments released every 15 minutes) until stopped')
    .option('--config <file>', 'schedule file: {"jobs":[{"name","cron","steps","task","extract","mapping","retries","backoffMs"}]}')
    .option('--once <job>', 'run this job once now (same locking and retries) and exit')
    .option('--json', 'print JSON (with --once)')
    .action(async (opts: { config?: string; once?: string; json?: boolean }) => {
      const { loadScheduleConfig, Scheduler } = await import('../../../pipelines/schedule.ts');
      const dir = dataDir();
      const { config } = loadScheduleConfig(dir, opts.config);
      const scheduler = new Scheduler({ dataDir: dir, config, tasks: { ...collectionTasks, ...apiTasks } });
      if (opts.once) {
        const outcome = await scheduler.runJob(opts.once);
        emit(outcome, opts, (o) =>
          o.status === 'skipped'
            ? `${o.job}: skipped (${o.reason})`
            : o.status === 'failed'
              ? `${o.job}: failed after ${o.attempts} attempt(s): ${o.error}`
              : `${o.job}: succeeded (${'runId' in o.result ? `run ${o.result.runId}` : o.result.summary})`,
        );
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
