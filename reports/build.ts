import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ReportsBuild {
  siteDir: string;
  seconds: number;
  pages: { page: string; bytes: number; onDemand: number; onDemandFile?: string }[];
  /** Seconds of each step of the build (build-site.ts) and of each data loader, and the processor seconds of the whole build. */
  steps: { steps: Record<string, number>; loaders: Record<string, number>; cpuSeconds: number };
}

const root = path.resolve(import.meta.dirname, '..');

/** Build folders of builds running in this process right now (never removed as stale). */
const activeBuilds = new Set<string>();

/**
 * Builds the Observable Framework site from `reports/` into `<dataDir>/site`, with the data
 * loaders reading `<dataDir>/published/warehouse.duckdb`, all of them in one process before
 * Framework runs (build-site.ts), into a source folder of this build's own, so every build shows
 * the latest published run and builds of several data directories at once never share a
 * loader's output. Returns the build time, its steps, and each page's weight (its HTML plus
 * every local script, stylesheet and data file it loads).
 *
 * A build stopped part-way leaves nothing running and, but for a SIGKILL, nothing on disk:
 * the build and its data loaders run in a process group of their own, which is ended when
 * this process gets SIGINT, SIGTERM or SIGHUP (the half-built folder is then removed and the
 * signal takes its course) or when this process dies outright (see build-guard.js); what a
 * SIGKILL leaves on disk is removed by the next build or pipeline run (`removeStaleBuilds`).
 */
export async function buildReports(options: { dataDir: string; siteDir?: string; quiet?: boolean }): Promise<ReportsBuild> {
  const dataDir = path.resolve(options.dataDir);
  const siteDir = path.resolve(options.siteDir ?? path.join(dataDir, 'site'));
  removeStaleBuilds(siteDir);
  removeStaleStages();
  const stage = path.join(STAGES, `${process.pid}-${++stageCount}`);
  fs.rmSync(stage, { recursive: true, force: true });
  // Build beside the live site and swap it in, so a server keeps serving the previous site
  // until the new one is complete.
  const staging = `${siteDir}.building-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  // There from the start, so a build in progress shows, and an interrupted one leaves a trace to clean.
  fs.mkdirSync(staging, { recursive: true });
  activeBuilds.add(staging);
  const started = performance.now();
  const output: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(root, 'reports', 'build-guard.js'), process.execPath, '--import', 'tsx', path.join(root, 'reports', 'build-site.ts')], {
        cwd: root,
        env: {
          ...process.env,
          CASHLOOP_DATA_DIR: dataDir,
          CASHLOOP_SITE_DIR: staging,
          CASHLOOP_REPORTS_STAGE: stage,
          // Framework would otherwise report the build to Observable over the network.
          OBSERVABLE_TELEMETRY_DISABLE: 'true',
          PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
      });
      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals) => {
        stoppedBy = signal;
        endGroup(child.pid);
        fs.rmSync(staging, { recursive: true, force: true, maxRetries: 5 });
        fs.rmSync(stage, { recursive: true, force: true, maxRetries: 5 });
        stopListening();
        // This listener kept the signal from ending the process; with it gone the signal
        // does what it was sent to do, unless the program listens for it itself.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      const stopListening = () => {
        for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
      };
      for (const s of STOP_SIGNALS) process.on(s, onSignal);
      const keep = (chunk: Buffer) => output.push(chunk.toString());
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.on('error', (error) => {
        stopListening();
        reject(error);
      });
      child.on('close', (code) => {
        stopListening();
        if (stoppedBy) reject(new Error(`the reports build was stopped by ${stoppedBy}`));
        else if (code === 0) resolve();
        else reject(new Error(`the reports build failed (exit ${code}):\n${output.join('').split('\n').filter((l) => !/^(build|copy|load|alias) /.test(l.trim())).slice(-30).join('\n')}`));
      });
    });
    const previous = `${siteDir}.previous-${process.pid}`;
    if (fs.existsSync(siteDir)) fs.renameSync(siteDir, previous);
    fs.renameSync(staging, siteDir);
    fs.rmSync(previous, { recursive: true, force: true });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true, maxRetries: 5 });
    throw error;
  } finally {
    activeBuilds.delete(staging);
    fs.rmSync(stage, { recursive: true, force: true, maxRetries: 5 });
  }
  const seconds = (performance.now() - started) / 1000;
  const stepsLine = /^site-build-steps (.*)$/m.exec(output.join(''));
  const steps = stepsLine ? (JSON.parse(stepsLine[1]!) as ReportsBuild['steps']) : { steps: {}, loaders: {}, cpuSeconds: NaN };
  const pages = pageWeights(siteDir);
  // The Data health page adds each run's site build to its seconds: the build's own time can
  // only be known after the build, so the next build reads it from here.
  // The log keeps the latest 200 builds.
  const log = path.join(dataDir, SITE_BUILDS);
  fs.appendFileSync(log, `${JSON.stringify({ startedAt: new Date(Date.now() - seconds * 1000).toISOString(), seconds: Number(seconds.toFixed(2)) })}\n`);
  if (fs.statSync(log).size > 64 * 1024) fs.writeFileSync(log, `${fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-200).join('\n')}\n`);
  if (!options.quiet) {
    process.stderr.write(`reports built in ${seconds.toFixed(1)} s into ${siteDir}\n`);
    for (const p of pages) process.stderr.write(`  ${p.page.padEnd(24)} ${(p.bytes / 1024).toFixed(0).padStart(6)} kB\n`);
  }
  return { siteDir, seconds, pages, steps };
}

/** Source folders of builds (build-site.ts): `<pid>-<n>`, removed when the build ends. */
const STAGES = path.join(root, 'reports', '.observablehq', 'cache', 'builds');
let stageCount = 0;

/** Removes the source folders of builds whose process is gone (a SIGKILL leaves them). */
function removeStaleStages(): void {
  let names: string[];
  try {
    names = fs.readdirSync(STAGES);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (pid !== process.pid && Number.isInteger(pid) && !processAlive(pid)) fs.rmSync(path.join(STAGES, name), { recursive: true, force: true });
  }
}

/** The log of site builds in the data directory, one JSON line per build (read by the Data health page). */
export const SITE_BUILDS = 'site-builds.jsonl';

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Ends a build's process group: the guard, the Observable build and every loader it runs. */
function endGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Removes what builds that did not finish left beside the site: `site.building-<pid>` and
 * `site.previous-<pid>` folders whose process is no longer alive (a folder of a live process
 * is its build in progress). A `site.previous-<pid>` is the last complete site: a build killed
 * between its two renames leaves no `site`, and then that folder is put back. Returns the
 * paths it removed or put back.
 */
export function removeStaleBuilds(siteDir: string): string[] {
  const dir = path.dirname(siteDir);
  const base = path.basename(siteDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const done: string[] = [];
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(building|previous)-(\\d+)$`);
  for (const name of names.sort()) {
    const m = pattern.exec(name);
    if (!m) continue;
    const folder = path.join(dir, name);
    const pid = Number(m[2]);
    if (activeBuilds.has(folder) || (pid !== process.pid && processAlive(pid))) continue;
    if (m[1] === 'previous' && !fs.existsSync(siteDir)) fs.renameSync(folder, siteDir);
    else fs.rmSync(folder, { recursive: true, force: true });
    done.push(folder);
  }
  return done;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Files a page fetches only when asked (a customer picked or searched for, "show every open
 * invoice", a download, a month or week of a chart), not when it opens: the open items of a
 * bucket, the parts of the whole customer list and of the customer drill-down, the month-end
 * workbook, and the rows behind a month of
 * the KPIs, the sales, the orders, the deliveries or the reminders, or behind a week of the
 * cash forecast or of its replay against actual.
 */
const ON_DEMAND = /(^|\/)(open-items\/|customer-search\/|customer-detail\/|month-end-pack\.|kpi-months\/|sales-months\/|order-months\/|cash-weeks\/|cash-replay\/|delivery-months\/|reminder-months\/)/;

/**
 * Bytes each page makes a browser load when it opens: the HTML and every local file it
 * references, but for the files it fetches only on demand; `onDemand` is the largest of those
 * (one is fetched at a time).
 */
export function pageWeights(siteDir: string): { page: string; bytes: number; onDemand: number; onDemandFile?: string }[] {
  const pages = fs.readdirSync(siteDir).filter((f) => f.endsWith('.html'));
  return pages.map((page) => {
    const html = fs.readFileSync(path.join(siteDir, page), 'utf8');
    const refs = new Set<string>();
    for (const m of html.matchAll(/["'(](\.?\/?_(?:file|import|node|npm|observablehq)\/[^"')?#]+)/g)) refs.add(path.normalize(m[1]!.replace(/^\.?\//, '')));
    // A module the page imports only with import("…") (not preloaded) is fetched on demand too.
    const dynamic = new Set([...html.matchAll(/import\("(\.?\/?_(?:import|node|npm)\/[^"]+)"\)/g)].map((m) => path.normalize(m[1]!.replace(/^\.?\//, ''))));
    const staticRefs = new Set([...html.matchAll(/(?:href="|from ")(\.?\/?_(?:import|node|npm)\/[^"]+)"/g)].map((m) => path.normalize(m[1]!.replace(/^\.?\//, ''))));
    let bytes = Buffer.byteLength(html);
    let onDemand = 0;
    let onDemandFile: string | undefined;
    for (const ref of refs) {
      const file = path.join(siteDir, ref);
      if (!fs.existsSync(file)) continue;
      const size = fs.statSync(file).size;
      if (ON_DEMAND.test(ref) || (dynamic.has(ref) && !staticRefs.has(ref))) {
        if (size > onDemand) [onDemand, onDemandFile] = [size, ref];
      } else bytes += size;
    }
    return { page, bytes, onDemand, ...(onDemandFile ? { onDemandFile } : {}) };
  });
}
