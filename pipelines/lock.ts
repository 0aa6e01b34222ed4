import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** A held job lock; release it when the job ends (a crashed holder loses it automatically). */
export interface JobLock {
  kind: 'file' | 'advisory';
  release(): Promise<void>;
}

const ADVISORY_NAMESPACE = 7_272_743;

/**
 * Lets one process at a time run a job. On PostgreSQL deployments it is a session advisory
 * lock, so schedulers on several servers can run side by side and the server frees the lock
 * of a process that dies. Otherwise a lock file under `<dataDir>/locks/`, created
 * exclusively; a file left by a dead process on this host is taken over.
 * Returns null when another process holds the lock.
 */
export async function tryAcquireJobLock(job: string, options: { dataDir: string; coreUrl?: string }): Promise<JobLock | null> {
  const url = options.coreUrl ?? process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) return tryAdvisoryLock(job, url);
  return tryFileLock(job, path.join(options.dataDir, 'locks'));
}

async function tryAdvisoryLock(job: string, url: string): Promise<JobLock | null> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1::int, hashtext($2)) as ok', [ADVISORY_NAMESPACE, job]);
  if (!r.rows[0]?.ok) {
    await client.end();
    return null;
  }
  return {
    kind: 'advisory',
    async release() {
      await client.query('select pg_advisory_unlock($1::int, hashtext($2))', [ADVISORY_NAMESPACE, job]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

function tryFileLock(job: string, dir: string): JobLock | null {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${job.replace(/[^a-z0-9_-]/gi, '_')}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }));
      fs.closeSync(fd);
      return {
        kind: 'file',
        async release() {
          fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!holderIsDead(file)) return null;
      fs.rmSync(file, { force: true });
    }
  }
  return null;
}

function holderIsDead(file: string): boolean {
  try {
    const holder = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number; host?: string };
    if (holder.host !== os.hostname() || typeof holder.pid !== 'number') return false;
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    // Being written right now, or unreadable: treat as held.
    return false;
  }
}
