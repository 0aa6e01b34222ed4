import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ReportsBuild {
  siteDir: string;
  seconds: number;
  pages: { page: string; bytes: number }[];
}

const root = path.resolve(import.meta.dirname, '..');

/**
 * Builds the Observable Framework site from `reports/` into `<dataDir>/site`, with the data
 * loaders reading `<dataDir>/published/warehouse.duckdb`. The loader cache is cleared first so
 * every build shows the latest published run. Returns the build time and each page's weight
 * (its HTML plus every local script, stylesheet and data file it loads).
 */
export async function buildReports(options: { dataDir: string; siteDir?: string; quiet?: boolean }): Promise<ReportsBuild> {
  const dataDir = path.resolve(options.dataDir);
  const siteDir = path.resolve(options.siteDir ?? path.join(dataDir, 'site'));
  fs.rmSync(path.join(root, 'reports', '.observablehq', 'cache'), { recursive: true, force: true });
  // Build beside the live site and swap it in, so a server keeps serving the previous site
  // until the new one is complete.
  const staging = `${siteDir}.building-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const started = performance.now();
  const bin = path.join(root, 'node_modules', '.bin', 'observable');
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin, ['build'], {
      cwd: root,
      env: { ...process.env, CASHLOOP_DATA_DIR: dataDir, CASHLOOP_SITE_DIR: staging, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => output.push(chunk.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the reports build failed (exit ${code}):\n${output.join('').split('\n').filter((l) => !/^(build|copy|load) /.test(l.trim())).slice(-30).join('\n')}`))));
  });
  const previous = `${siteDir}.previous-${process.pid}`;
  if (fs.existsSync(siteDir)) fs.renameSync(siteDir, previous);
  fs.renameSync(staging, siteDir);
  fs.rmSync(previous, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  const pages = pageWeights(siteDir);
  if (!options.quiet) {
    process.stderr.write(`reports built in ${seconds.toFixed(1)} s into ${siteDir}\n`);
    for (const p of pages) process.stderr.write(`  ${p.page.padEnd(24)} ${(p.bytes / 1024).toFixed(0).padStart(6)} kB\n`);
  }
  return { siteDir, seconds, pages };
}

/** Bytes each page makes a browser load: the HTML and every local file it references. */
export function pageWeights(siteDir: string): { page: string; bytes: number }[] {
  const pages = fs.readdirSync(siteDir).filter((f) => f.endsWith('.html'));
  return pages.map((page) => {
    const html = fs.readFileSync(path.join(siteDir, page), 'utf8');
    const refs = new Set<string>();
    for (const m of html.matchAll(/["'(](\.?\/?_(?:file|import|node|npm|observablehq)\/[^"')?#]+)/g)) refs.add(path.normalize(m[1]!.replace(/^\.?\//, '')));
    let bytes = Buffer.byteLength(html);
    for (const ref of refs) {
      const file = path.join(siteDir, ref);
      if (fs.existsSync(file)) bytes += fs.statSync(file).size;
    }
    return { page, bytes };
  });
}
