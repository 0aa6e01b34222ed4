import fs from 'node:fs';
import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import { invalid } from '../src/shared/errors.ts';
import { tryAcquireJobLock } from './lock.ts';
import { runPipeline, type PipelineOptions, type PipelineRunResult } from './run.ts';

/** One scheduled job: a cron expression and the pipeline run (or other task) it starts. */
export interface ScheduleJob {
  name: string;
  /** node-cron expression (5 or 6 fields), e.g. `*\/15 * * * *`. */
  cron: string;
  /**
   * What the job runs: `pipeline` (default) or a task the caller registers, such as
   * `collections-reminders`, `collections-statement-run` and `idempotency-purge` (the CLI's `schedule`).
   */
  task?: string;
  steps?: string[];
  extract?: string;
  mapping?: string;
  /** Extra attempts after a failure (default 2), waiting backoffMs, then twice that, … */
  retries?: number;
  backoffMs?: number;
  timezone?: string;
}

export interface ScheduleConfig {
  jobs: ScheduleJob[];
}

/**
 * Used when the data directory has no `schedule.json`: the full pipeline every 15 minutes,
 * the reminder run every morning, the monthly statement run on the first of the month, and expired
 * API Idempotency-Keys deleted every hour, the salespeople's notifications raised after the reminders and each user's digest
 * of unread notifications e-mailed after that.
 */
export const defaultSchedule: ScheduleConfig = {
  jobs: [
    { name: 'warehouse', cron: '*/15 * * * *', steps: ['all'] },
    { name: 'reminders', cron: '0 6 * * *', task: 'collections-reminders' },
    // The monthly statement run: each customer's statement of account into the outbox.
    { name: 'statement-run', cron: '0 7 1 * *', task: 'collections-statement-run' },
    { name: 'idempotency-keys', cron: '20 * * * *', task: 'idempotency-purge' },
    // After the reminder run: the salespeople hear of dunning levels passed and promises broken.
    { name: 'notifications', cron: '30 6 * * *', task: 'notifications-raise' },
    // Then each user's unread notifications, once a day, by e-mail through the outbox.
    { name: 'notification-digest', cron: '0 7 * * *', task: 'notification-digest' },
    // Orders on prepayment terms go on to shipping once the customer's payments cover them.
    { name: 'prepayments', cron: '*/15 * * * *', task: 'prepayments-release' },
  ],
};

/**
 * Job and task names that were renamed: the old name still works and says so once per use.
 * `statements` was the monthly statement run, now `statement-run` (a bank statement and a
 * customer's statement of account are other things).
 */
export const RENAMED_JOBS: Readonly<Record<string, string>> = { statements: 'statement-run' };
export const RENAMED_TASKS: Readonly<Record<string, string>> = { 'collections-statements': 'collections-statement-run' };

const deprecated = (kind: string, old: string, now: string) => `${kind} "${old}" is deprecated: it is now "${now}"; the old name will stop working in a later version`;

/** A task other than the pipeline: runs once, says what it did. */
export type JobTask = (job: ScheduleJob) => Promise<{ summary: string }>;

/** Reads `file`, else `<dataDir>/schedule.json`, else the default schedule; checks every expression. */
export function loadScheduleConfig(dataDir: string, file?: string): { config: ScheduleConfig; from: string } {
  const candidate = file ?? path.join(dataDir, 'schedule.json');
  let config = defaultSchedule;
  let from = 'default';
  if (file || fs.existsSync(candidate)) {
    try {
      config = JSON.parse(fs.readFileSync(candidate, 'utf8')) as ScheduleConfig;
    } catch (error) {
      throw invalid(`schedule ${candidate} cannot be read: ${(error as Error).message}`, { entity: 'schedule', id: candidate, rule: 'readable_json' });
    }
    from = candidate;
  }
  if (!Array.isArray(config.jobs) || config.jobs.length === 0) throw invalid(`schedule ${from} lists no jobs`, { entity: 'schedule', field: 'jobs', rule: 'jobs_listed' });
  const names = new Set<string>();
  for (const job of config.jobs) {
    if (!job.name || names.has(job.name)) throw invalid(`schedule ${from}: every job needs a unique name`, { entity: 'schedule', field: 'name', value: job.name, rule: 'unique_name' });
    names.add(job.name);
    if (!cron.validate(job.cron)) throw invalid(`schedule ${from}: job ${job.name} has an invalid cron expression ${JSON.stringify(job.cron)}`, { entity: 'schedule', field: `${job.name}.cron`, value: job.cron, rule: 'cron_expression' });
  }
  return { config, from };
}

export type JobOutcome =
  | { job: string; status: 'succeeded'; attempts: number; result: PipelineRunResult | { summary: string; ms: number } }
  | { job: string; status: 'failed'; attempts: number; error: string }
  | { job: string; status: 'skipped'; reason: 'overlap' | 'locked' };

export interface SchedulerOptions {
  dataDir: string;
  coreUrl?: string;
  config: ScheduleConfig;
  /** What a job runs; the pipeline by default (tests pass a slower or failing one). */
  run?: (options: PipelineOptions) => Promise<PipelineRunResult>;
  /** Tasks jobs may name besides the pipeline (`task` of a job). */
  tasks?: Record<string, JobTask>;
  log?: (line: string) => void;
}

/**
 * Runs the jobs of a schedule on their cron expressions. A job never overlaps itself: in
 * this process a second start while it runs is skipped, and across processes and servers
 * the job lock (lock file, or PostgreSQL advisory lock) lets only one holder run it.
 * Failures are retried with exponential backoff; every attempt is in ops.pipeline_runs.
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #running = new Set<string>();
  readonly #tasks: ScheduledTask[] = [];

  constructor(given: SchedulerOptions) {
    // A schedule file written before a task was renamed names the old task: it runs the new one.
    const jobs = given.config.jobs.map((job) => {
      const renamed = job.task ? RENAMED_TASKS[job.task] : undefined;
      if (!renamed) return job;
      (given.log ?? logLine)(`${deprecated('task', job.task!, renamed)} (job ${job.name})`);
      return { ...job, task: renamed };
    });
    const options = { ...given, config: { ...given.config, jobs } };
    for (const job of options.config.jobs) {
      if (job.task && job.task !== 'pipeline' && !options.tasks?.[job.task]) {
        throw invalid(`schedule job ${job.name} names an unknown task ${job.task}; known: pipeline${Object.keys(options.tasks ?? {}).map((t) => `, ${t}`).join('')}`, { entity: 'schedule', field: `${job.name}.task`, value: job.task, rule: 'known_task' });
      }
    }
    this.#options = options;
  }

  start(): void {
    for (const job of this.#options.config.jobs) {
      const task = cron.schedule(
        job.cron,
        async () => {
          await this.runJob(job.name);
        },
        { name: `cashloop:${job.name}`, noOverlap: true, ...(job.timezone ? { timezone: job.timezone } : {}) },
      );
      this.#tasks.push(task);
    }
    this.#log(`scheduler: ${this.#options.config.jobs.map((j) => `${j.name} (${j.cron})`).join(', ')}`);
  }

  async stop(): Promise<void> {
    for (const t of this.#tasks.splice(0)) await t.stop();
  }

  /** Runs one job now, under the same no-overlap and single-runner rules as a scheduled start. */
  async runJob(asked: string): Promise<JobOutcome> {
    const jobs = this.#options.config.jobs;
    let name = asked;
    const renamed = RENAMED_JOBS[asked];
    if (renamed && !jobs.some((j) => j.name === asked) && jobs.some((j) => j.name === renamed)) {
      this.#log(deprecated('job', asked, renamed));
      name = renamed;
    }
    const job = jobs.find((j) => j.name === name);
    if (!job) throw invalid(`schedule has no job ${name}`, { entity: 'schedule', id: name, rule: 'known_job' });
    if (this.#running.has(name)) {
      this.#log(`${name}: still running, this start is skipped`);
      return { job: name, status: 'skipped', reason: 'overlap' };
    }
    this.#running.add(name);
    try {
      const lock = await tryAcquireJobLock(`job-${name}`, { dataDir: this.#options.dataDir, coreUrl: this.#options.coreUrl });
      if (!lock) {
        this.#log(`${name}: another process is running it, this start is skipped`);
        return { job: name, status: 'skipped', reason: 'locked' };
      }
      try {
        return await this.#attempt(job);
      } finally {
        await lock.release();
      }
    } finally {
      this.#running.delete(name);
    }
  }

  async #attempt(job: ScheduleJob): Promise<JobOutcome> {
    const run = this.#options.run ?? runPipeline;
    const retries = job.retries ?? 2;
    const backoff = job.backoffMs ?? 30_000;
    let lastError = '';
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      try {
        const task = job.task && job.task !== 'pipeline' ? this.#options.tasks![job.task]! : null;
        if (task) {
          const t0 = performance.now();
          const done = await task(job);
          const ms = Math.round(performance.now() - t0);
          this.#log(`${job.name}: ${done.summary} (${ms} ms, attempt ${attempt})`);
          return { job: job.name, status: 'succeeded', attempts: attempt, result: { ...done, ms } };
        }
        const result = await run({
          dataDir: this.#options.dataDir,
          coreUrl: this.#options.coreUrl,
          steps: job.steps,
          extract: job.extract,
          mapping: job.mapping,
          quiet: true,
          job: job.name,
          site: true,
        });
        this.#log(`${job.name}: succeeded in ${result.ms} ms (attempt ${attempt})`);
        return { job: job.name, status: 'succeeded', attempts: attempt, result };
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        this.#log(`${job.name}: attempt ${attempt} failed: ${lastError}`);
        if (attempt <= retries) await new Promise((r) => setTimeout(r, backoff * 2 ** (attempt - 1)));
      }
    }
    return { job: job.name, status: 'failed', attempts: retries + 1, error: lastError };
  }

  #log(line: string): void {
    (this.#options.log ?? logLine)(line);
  }
}

function logLine(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}
