import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCore, openCore } from '../../src/core.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { testDialect } from '../helpers/db.ts';
import { cli } from '../helpers/cli.ts';

const repo = path.resolve(import.meta.dirname, '../..');

/**
 * Processes other than this one whose environment points at `dataDir`: the pipeline run
 * started for it and everything that run started (the site build, its data loaders).
 */
function processesOf(dataDir: string): string[] {
  const marker = `CASHLOOP_DATA_DIR=${dataDir}`;
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) continue;
      found.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()}`);
    } catch {
      // Ended while being read, or not ours to read.
    }
  }
  return found;
}

async function until<T>(what: string, check: () => T | undefined | null | false, ms: number, child?: ChildProcess): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (child && child.exitCode !== null) throw new Error(`the pipeline ended (exit ${child.exitCode}) before ${what}`);
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess, ms: number): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.signalCode ?? child.exitCode);
    const timer = setTimeout(() => reject(new Error(`the pipeline did not end within ${ms / 1000} s`)), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? code);
    });
  });
}

/**
 * A pipeline stopped while it builds the reports site leaves no process behind, and no
 * half-built site folder once the next run has started.
 */
// The site build reads the warehouse, not the core database: it runs once, in the SQLite pass.
describe.skipIf(testDialect === 'postgres')('a pipeline stopped during the site build', () => {
  let dataDir: string;
  let asOf: string;
  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, CASHLOOP_DATA_DIR: dataDir };
    delete e.DATABASE_URL;
    return e;
  };
  const startRun = () =>
    spawn(process.execPath, [path.join(repo, 'bin/cashloop.js'), 'pipeline', 'run', '--quiet', '--as-of', asOf], { cwd: repo, env: env(), stdio: 'ignore' });
  /** Waits until the run's site build is under way: its folder there, and the Observable build running. */
  const buildUnderWay = async (child: ChildProcess) => {
    const folder = path.join(dataDir, `site.building-${child.pid}`);
    await until('the site build to start', () => fs.existsSync(folder), 240_000, child);
    await until('the Observable build to run', () => processesOf(dataDir).some((p) => p.includes('observable')), 30_000, child);
    return folder;
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-sitekill-'));
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    const core = await openCore({ url: `sqlite:${path.join(dataDir, 'cashloop.db')}`, clock });
    const demo = await generateDemo(core, clock, { seed: 7, customers: 8, months: 3, start: '2025-01-01' });
    asOf = demo.manifest.end;
    await closeCore(core);
  }, 120_000);
  afterAll(() => {
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('the build guard ends the whole build group when the process that started it is killed outright, even a build that writes nothing', async () => {
    // Stands in for a pipeline: starts a silent, never-ending "build" under the guard the way
    // reports/build.ts does, then is SIGKILLed. Only the guard can end that build.
    const marker = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-guard-'));
    const starter = `
      const { spawn } = require('node:child_process');
      spawn(process.execPath, [${JSON.stringify(path.join(repo, 'reports/build-guard.js'))}, process.execPath, '-e', 'setInterval(() => {}, 1000)'], {
        detached: true, stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...process.env, CASHLOOP_DATA_DIR: ${JSON.stringify(marker)} },
      });`;
    const parent = spawn(process.execPath, ['-e', starter], { stdio: 'ignore' });
    try {
      await until('the guarded build to run', () => processesOf(marker).length === 2, 20_000, parent);
      parent.kill('SIGKILL');
      await exited(parent, 10_000);
      await until('the guarded build to end', () => processesOf(marker).length === 0, 10_000);
    } finally {
      parent.kill('SIGKILL');
      for (const p of processesOf(marker)) process.kill(Number(p.split(' ')[0]), 'SIGKILL');
      fs.rmSync(marker, { recursive: true, force: true });
    }
  }, 60_000);

  it('SIGTERM ends the Observable build and its loaders with the pipeline, and removes the half-built folder', async () => {
    const child = startRun();
    try {
      const folder = await buildUnderWay(child);
      child.kill('SIGTERM');
      // The signal takes its course once the build is stopped: the run ends as killed by it.
      expect(await exited(child, 20_000)).toBe('SIGTERM');
      expect(processesOf(dataDir)).toEqual([]);
      expect(fs.existsSync(folder)).toBe(false);
      expect(fs.existsSync(path.join(dataDir, 'site'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 300_000);

  it('after a SIGKILL the build dies with the pipeline, and the next run removes the folder it left; a live run’s folder stays', async () => {
    const child = startRun();
    const folder = await buildUnderWay(child).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    try {
      child.kill('SIGKILL');
      expect(await exited(child, 20_000)).toBe('SIGKILL');
      // Nothing could run in the pipeline process: the build notices it is gone by itself.
      await until('the processes of the killed run to end', () => processesOf(dataDir).length === 0, 10_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(fs.existsSync(folder)).toBe(true);
    // A build in progress in another live process (this one stands in for it) is not touched.
    const live = path.join(dataDir, `site.building-${process.pid}`);
    fs.mkdirSync(live);

    const next = await cli(['pipeline', 'run', 'ingest', '--quiet'], { CASHLOOP_DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(fs.existsSync(folder)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  }, 300_000);
});
