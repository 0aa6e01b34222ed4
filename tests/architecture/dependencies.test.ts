import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dependency rules (.dependency-cruiser.cjs, run by `npm run lint:deps` in `npm test`):
 * the real tree passes them, and a tree that makes forbidden imports fails them, each with
 * the rule's name. The forbidden imports are made in a temporary copy of the layout, so a
 * failing run never leaves a stray file in the repository.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const config = path.join(root, '.dependency-cruiser.cjs');
const cli = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string; severity: string };
}
interface CruiseResult {
  modules: { source: string; dependencies: { resolved: string }[] }[];
  summary: { error: number; violations: Violation[]; totalCruised: number };
}

/** Runs the checker as npm does, in `cwd`; `json` for the full result (that reporter always exits 0). */
function depcruise(cwd: string, targets: string[], output: 'json' | 'err') {
  const run = spawnSync(process.execPath, [cli, '--config', config, '--output-type', output, ...targets], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 110_000,
  });
  if (!run.stdout) throw new Error(`dependency-cruiser printed nothing (exit ${run.status}): ${run.stderr}`);
  return run;
}

function cruise(cwd: string, targets: string[]): CruiseResult {
  return JSON.parse(depcruise(cwd, targets, 'json').stdout) as CruiseResult;
}

describe('dependency rules', () => {
  it('are the ones the architecture page lists, and the page lists no other', () => {
    const rules = (createRequire(import.meta.url)(config) as { forbidden: { name: string }[] }).forbidden.map((r) => r.name);
    const page = fs.readFileSync(path.join(root, 'docs', 'architecture.md'), 'utf8');
    const listed = [...page.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...rules].sort());
  });

  describe('on the real tree', () => {
    let result: CruiseResult;
    beforeAll(() => {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      const [command, ...args] = pkg.scripts['lint:deps']!.split(/\s+/);
      expect(command).toBe('depcruise');
      expect(args.slice(0, 2)).toEqual(['--config', '.dependency-cruiser.cjs']);
      result = cruise(root, args.slice(2));
    }, 120_000);

    it('pass, as npm run lint:deps runs them', () => {
      expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
      // Not a vacuous pass: every top-level folder of code was read.
      const folders = new Set(result.modules.map((m) => m.source.split('/')[0]));
      for (const folder of ['src', 'pipelines', 'models', 'reports', 'scripts', 'bin', 'tests']) expect(folders).toContain(folder);
      expect(result.summary.totalCruised).toBeGreaterThan(250);
    });

    it('list only exceptions that are still needed: each names one file, which still opens DuckDB or the warehouse', () => {
      const { knownExceptions } = createRequire(import.meta.url)(config) as { knownExceptions: { duckdbInTheCore: string[]; folderCycleOfTheHttpFace: string } };
      for (const pattern of knownExceptions.duckdbInTheCore) {
        const matching = result.modules.filter((m) => new RegExp(pattern).test(m.source));
        expect(matching.map((m) => m.source), pattern).toHaveLength(1);
        const reaches = matching[0]!.dependencies.some((d) => /(^|\/)node_modules\/@duckdb\/|^src\/warehouse\//.test(d.resolved));
        expect(reaches, `${matching[0]!.source} no longer opens DuckDB: remove its exception`).toBe(true);
      }
      // The API and the portal still depend on each other, each with everything under it.
      const http = new RegExp(knownExceptions.folderCycleOfTheHttpFace);
      const dependsOn = (from: string, to: string) =>
        result.modules.some((m) => m.source.startsWith(`${from}/`) && m.dependencies.some((d) => d.resolved.startsWith(`${to}/`)));
      expect(http.test('src/api') && http.test('src/portal/x.ts')).toBe(true);
      expect(dependsOn('src/api', 'src/portal') && dependsOn('src/portal', 'src/api'), 'the API and the portal no longer depend on each other: remove the exception').toBe(true);
    });
  });

  describe('on a tree that makes forbidden imports', () => {
    let dir: string;
    let failed: { status: number | null; stdout: string };
    let violations: Violation[];
    const stub = 'export const stub = 1;\n';
    const files: Record<string, string> = {
      // Allowed: the layers as they should be.
      'src/shared/money.ts': stub,
      'src/warehouse/warehouse.ts': "export { DuckDBInstance } from '@duckdb/node-api';\n",
      'src/payments/payment.service.ts': "export { stub } from '../shared/money.ts';\n",
      'pipelines/publish.ts': "export { DuckDBInstance } from '../src/warehouse/warehouse.ts';\n",
      'pipelines/run.ts': "export async function run() {\n  await import('../models/forecast-step.ts');\n  await import('../reports/build.ts');\n}\n",
      'models/forecast-step.ts': "export { stub } from './sales/series.ts';\n",
      'models/sales/series.ts': "export { DuckDBInstance } from '../../src/warehouse/warehouse.ts';\nexport const stub = 1;\n",
      'reports/build.ts': stub,
      'reports/data/snapshot.ts': "export { DuckDBInstance } from '../../src/warehouse/warehouse.ts';\n",
      // Onboarding's extract reader is the one listed exception to the core's not opening DuckDB.
      'src/onboarding/source.ts': "export { DuckDBInstance } from '@duckdb/node-api';\n",
      // Forbidden, one rule each.
      'src/payments/probe.service.ts': "export { DuckDBInstance } from '@duckdb/node-api';\n",
      'src/collections/other.service.ts': "export { DuckDBInstance } from '@duckdb/node-api';\n",
      'pipelines/probe.ts': "export { stub } from '../src/payments/payment.service.ts';\n",
      'pipelines/probe-step.ts': "export { stub } from '../models/forecast-step.ts';\n",
      'models/probe/probe.ts': "export { DuckDBInstance } from '../../pipelines/publish.ts';\n",
      'reports/data/probe.json.ts': "export { stub } from '../../models/sales/series.ts';\n",
      'src/api/routes/probe.routes.ts': "export { sql } from 'kysely';\n",
      'src/demo/probe-a.ts': "import { b } from './probe-b.ts';\nexport const a = () => b;\n",
      'src/demo/probe-b.ts': "import { a } from './probe-a.ts';\nexport const b = () => a;\n",
      'src/newarea/probe.ts': "export { stub } from '../shared/money.ts';\n",
      // A benchmark stands outside the layers; nothing imports it.
      'src/onboarding/import.bench.ts': "export { DuckDBInstance } from '@duckdb/node-api';\nexport { run } from '../../pipelines/run.ts';\n",
      'src/payments/uses-bench.ts': "export { run } from '../onboarding/import.bench.ts';\n",
      // The API and the portal depend on each other (a listed exception)...
      'src/api/mounts.ts': "export { page } from '../portal/page.ts';\n",
      'src/portal/page.ts': 'export const page = 1;\n',
      'src/portal/signs-in.ts': "export { plumbing } from '../api/plumbing.ts';\n",
      'src/api/plumbing.ts': 'export const plumbing = 1;\n',
      // ...but a loop of the API with any other folder is found.
      'src/api/calls.ts': "export { s } from '../shipping/s.ts';\n",
      'src/shipping/s.ts': 'export const s = 1;\n',
      'src/shipping/t.ts': "export { plumbing } from '../api/plumbing.ts';\n",
      // A loop of folders without a loop of modules.
      'pipelines/ingest/one.ts': "export { two } from '../transform/two.ts';\n",
      'pipelines/transform/two.ts': 'export const two = 2;\n',
      'pipelines/transform/three.ts': "export { four } from '../ingest/four.ts';\n",
      'pipelines/ingest/four.ts': 'export const four = 4;\n',
    };

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-layers-'));
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      fs.copyFileSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
      for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      }
      const targets = ['src', 'pipelines', 'models', 'reports'];
      failed = depcruise(dir, targets, 'err');
      violations = cruise(dir, targets).summary.violations;
    }, 120_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const found = (rule: string, from: string, to: RegExp) => violations.some((v) => v.rule.name === rule && v.from === from && to.test(v.to));

    it('fails the run as npm test runs it, naming each rule broken', () => {
      expect(failed.status).not.toBe(0);
      for (const rule of ['core-never-reads-the-warehouse', 'pipelines-read-the-core-through-db-and-events', 'faces-call-services', 'no-circular', 'no-folder-cycle']) {
        expect(failed.stdout).toContain(`error ${rule}:`);
      }
      expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
    });

    it('names the rule a core service breaks by opening DuckDB', () => {
      expect(found('core-never-reads-the-warehouse', 'src/payments/probe.service.ts', /node_modules\/@duckdb\/node-api\//)).toBe(true);
      expect(found('core-never-reads-the-warehouse', 'src/collections/other.service.ts', /@duckdb/)).toBe(true);
    });

    it('names the rule a pipeline breaks by calling a core service', () => {
      expect(found('pipelines-read-the-core-through-db-and-events', 'pipelines/probe.ts', /^src\/payments\/payment\.service\.ts$/)).toBe(true);
    });

    it("names the rules broken by models reading pipelines' internals, reports reading models, and a second conductor", () => {
      expect(found('models-read-the-warehouse', 'models/probe/probe.ts', /^pipelines\/publish\.ts$/)).toBe(true);
      expect(found('reports-read-the-snapshot', 'reports/data/probe.json.ts', /^models\/sales\/series\.ts$/)).toBe(true);
      expect(found('one-conductor', 'pipelines/probe-step.ts', /^models\/forecast-step\.ts$/)).toBe(true);
    });

    it('names the rule a route breaks by building SQL', () => {
      expect(found('faces-call-services', 'src/api/routes/probe.routes.ts', /node_modules\/kysely\//)).toBe(true);
    });

    it('names the rule a folder of src/ breaks before it has its place in the layers', () => {
      expect(found('src-folders-are-placed', 'src/newarea/probe.ts', /^src\/shared\/money\.ts$/)).toBe(true);
    });

    it('names the rule broken by importing a benchmark', () => {
      expect(found('nothing-imports-scripts-or-tests', 'src/payments/uses-bench.ts', /^src\/onboarding\/import\.bench\.ts$/)).toBe(true);
    });

    it('finds a loop of modules and a loop of folders', () => {
      expect(found('no-circular', 'src/demo/probe-a.ts', /^src\/demo\/probe-b\.ts$/)).toBe(true);
      expect(violations.some((v) => v.rule.name === 'no-folder-cycle' && ['pipelines/ingest', 'pipelines/transform'].includes(v.from))).toBe(true);
    });

    it('leaves the loop of the API and the portal alone, and finds a loop of the API with another folder', () => {
      expect(violations.filter((v) => v.rule.name === 'no-folder-cycle' && /^src\/(api|portal)(\/|$)/.test(v.from))).toEqual([]);
      expect(violations.some((v) => v.rule.name === 'no-folder-cycle' && v.from === 'src/shipping')).toBe(true);
    });

    it('lets the allowed imports and the listed exceptions through', () => {
      const allowed = [
        'src/warehouse/warehouse.ts',
        'src/payments/payment.service.ts',
        'pipelines/publish.ts',
        'pipelines/run.ts',
        'models/forecast-step.ts',
        'models/sales/series.ts',
        'reports/data/snapshot.ts',
        'src/onboarding/source.ts',
        'src/onboarding/import.bench.ts',
        'src/api/mounts.ts',
        'src/portal/signs-in.ts',
      ];
      expect(violations.filter((v) => allowed.includes(v.from)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    });
  });
});
