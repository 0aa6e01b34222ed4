import fs from 'node:fs';
import path from 'node:path';
import { conflict, DomainError } from '../src/shared/errors.ts';
import { extractMappingOf } from './ingest/extract.ts';
import { runPipeline, type PipelineOptions, type PipelineRunResult } from './run.ts';
import { openWarehouse, rowsJson, warehousePaths } from '../src/warehouse/warehouse.ts';

export interface RebuildOptions extends Omit<PipelineOptions, 'steps'> {
  /** Rebuild even though the old warehouse holds extract sources this rebuild does not load again. */
  withoutExtracts?: boolean;
}

export interface RebuildResult {
  /** What the old working file was: absent, readable, or damaged (DuckDB could not open it). */
  previous: 'missing' | 'readable' | 'damaged';
  /** Files and folders deleted before the run, with their size. */
  removed: { path: string; bytes: number }[];
  run: PipelineRunResult;
}

/**
 * `cashloop pipeline rebuild`: deletes everything the pipeline keeps — the working DuckDB
 * file and its WAL (with the run state inside it: watermarks, model state, run log), the
 * published snapshot and the Parquet folders — and runs the whole pipeline again from the
 * core's event feed (and the extract given). Everything the warehouse holds is derived from
 * those, so the rebuilt warehouse has the same marts and metrics; the reports site is
 * replaced only when the new build is complete.
 *
 * Refused while another run has the warehouse open, and when the old warehouse holds an
 * extract source that this rebuild would not load again (another ERP's data the core does
 * not have), unless `withoutExtracts`.
 */
export async function rebuildWarehouse(options: RebuildOptions): Promise<RebuildResult> {
  const dataDir = path.resolve(options.dataDir);
  const paths = warehousePaths(dataDir);
  let previous: RebuildResult['previous'] = 'missing';
  let sources: { source: string; files: string }[] = [];
  if (fs.existsSync(paths.warehouse)) {
    try {
      const wh = await openWarehouse(paths.warehouse, { readOnly: true });
      try {
        previous = 'readable';
        sources = (await rowsJson(wh.conn, `select source, max_by(files, loaded_at) as files from ops.extract_loads group by source order by source`).catch(() => [])).map((r) => ({
          source: String(r.source),
          files: String(r.files),
        }));
      } finally {
        wh.close();
      }
    } catch (error) {
      // In use by a run: that run's DuckDB lock says so, and nothing is deleted under it.
      if (error instanceof DomainError) throw error;
      // Any other file DuckDB cannot open (damaged, or written by another DuckDB version) is
      // what a rebuild is for.
      previous = 'damaged';
    }
  }
  const reloaded = options.extract ? extractMappingOf(options.extract, options.mapping).source : null;
  const dropped = sources.filter((s) => s.source !== reloaded);
  if (dropped.length > 0 && !options.withoutExtracts) {
    const list = dropped.map((s) => `${s.source} (${(JSON.parse(s.files) as { file: string }[]).map((f) => f.file).join(', ')})`).join('; ');
    throw conflict(
      `the warehouse holds extract data the core does not have: ${list}; give --extract DIR (and --mapping FILE) to load it again, or --without-extracts to rebuild from the core alone`,
      { entity: 'warehouse', id: paths.warehouse, rule: 'extracts_reloaded' },
    );
  }

  const removed: RebuildResult['removed'] = [];
  for (const target of [paths.warehouse, `${paths.warehouse}.wal`, paths.published]) {
    if (!fs.existsSync(target)) continue;
    removed.push({ path: target, bytes: sizeOf(target) });
    fs.rmSync(target, { recursive: true, force: true });
  }
  const run = await runPipeline({ ...options, dataDir, steps: ['all'], job: options.job ?? 'rebuild' });
  return { previous, removed, run };
}

/** Bytes of a file, or of every file under a folder (links not followed). */
function sizeOf(target: string): number {
  const stat = fs.lstatSync(target);
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  return fs.readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
}
