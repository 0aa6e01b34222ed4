// The site build that reports/build.ts starts (through build-guard.js): one process that
// 1. copies the pages and components of reports/ into a source folder of this build's own
//    (CASHLOOP_REPORTS_STAGE, under reports/.observablehq/cache/builds/),
// 2. runs every data loader of reports/data/ in this process, over one read-only open of the
//    published snapshot, writing each loader's file (an archive loader's members as the files
//    the zip would hold) into that folder's data/ — so Framework finds static files and starts
//    no loader process, opens no DuckDB file and unzips nothing,
// 3. lends Framework the bundles of the pages' node_modules imports (Plot, Inputs, d3,
//    apache-arrow, htl) made by an earlier build, and keeps the ones this build made,
// 4. runs Observable Framework's build on that folder, into CASHLOOP_SITE_DIR.
// It prints one line `site-build-steps {json}` with the seconds of each step and of each loader,
// and the processor seconds of the whole build.
// A loader still runs on its own under `observable preview` (it writes to stdout then).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openWarehouse } from '../src/warehouse/warehouse.ts';
import { setRunner, snapshotFile } from './data/snapshot.ts';
import config from '../observablehq.config.ts';

// What `ps` shows for this process: the site build, Observable Framework's, of cashloop's reports.
process.title = 'cashloop reports: observable build';
const reports = import.meta.dirname;
const stage = process.env.CASHLOOP_REPORTS_STAGE;
if (!stage) throw new Error('CASHLOOP_REPORTS_STAGE is not set: reports/build.ts starts this build');
/** Bundles of node_modules imports shared between builds (Framework's `_node` folder). */
export const NODE_BUNDLES = path.join(reports, '.observablehq', 'cache', 'node-bundles');

// From the process's start to here: Node, tsx, the snapshot's DuckDB module and the config.
const steps: Record<string, number> = { 'start-up': Number((performance.now() / 1000).toFixed(2)) };
const loaders: Record<string, number> = {};
const timed = async <T>(record: Record<string, number>, name: string, fn: () => Promise<T> | T): Promise<T> => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    record[name] = Number(((performance.now() - t0) / 1000).toFixed(2));
  }
};

// 1. The pages, components and stylesheet; not the loaders, nor the build's own files, nor this
// folder's README (it is for developers, and no page links to it).
const BUILD_FILES = new Set(['data', '.observablehq', 'build.ts', 'build-site.ts', 'build-guard.js', 'tsconfig.json', 'README.md']);
await timed(steps, 'copy sources', () => {
  fs.mkdirSync(path.join(stage, 'data'), { recursive: true });
  for (const name of fs.readdirSync(reports)) {
    if (!BUILD_FILES.has(name)) fs.cpSync(path.join(reports, name), path.join(stage, name), { recursive: true });
  }
});

// 2. Every loader (data/<name>.<ext>.ts), one after the other, over one open snapshot.
const LOADER = /^[\w-]+\.(json|arrows|zip|xlsx)\.ts$/;
await timed(steps, 'data loaders', async () => {
  const warehouse = await openWarehouse(snapshotFile(), { readOnly: true });
  // Where the loader now running writes: its file, or its archive's members in a folder.
  let current = { file: '', target: '', wrote: false };
  const once = () => {
    if (current.wrote) throw new Error(`data/${current.file} wrote its output twice`);
    current.wrote = true;
  };
  setRunner({
    warehouse,
    write(data) {
      once();
      fs.writeFileSync(current.target, data);
    },
    writeMembers(members) {
      once();
      const folder = current.target.replace(/\.zip$/, '');
      fs.mkdirSync(folder, { recursive: true });
      for (const [name, data] of members) fs.writeFileSync(path.join(folder, name), data);
    },
  });
  try {
    for (const file of fs.readdirSync(path.join(reports, 'data')).filter((f) => LOADER.test(f)).sort()) {
      current = { file, target: path.join(stage, 'data', file.slice(0, -'.ts'.length)), wrote: false };
      await timed(loaders, file, () => import(pathToFileURL(path.join(reports, 'data', file)).href));
      if (!current.wrote) throw new Error(`data/${file} wrote nothing`);
    }
  } finally {
    setRunner(undefined);
    warehouse.close();
  }
});

// 3. An earlier build's bundles of the node_modules imports: Framework bundles an import only
// when its file is missing, and the file's name holds the package's version. And the versions
// of the libraries Framework's client offers from a CDN (which these pages never load):
// Framework asks registry.npmjs.org for each one it has no `_npm/<name>@<version>` folder for,
// at every build; with the folders there, the build asks nothing of the network.
const cache = path.join(stage, '.observablehq', 'cache');
const nodeCache = path.join(cache, '_node');
const NPM_VERSIONS = [
  '@observablehq/plot@0.6.17', '@observablehq/sample-datasets@1.0.1', 'apache-arrow@21.2.0', 'arquero@8.0.3', 'd3-dsv@3.0.2', 'd3@7.9.2', 'echarts@6.1.0',
  'htl@1.0.0', 'leaflet@1.9.4', 'lodash@4.18.1', 'mapbox-gl@3.32.0', 'parquet-wasm@0.8.0', 'react-dom@19.3.1', 'react@19.3.1', 'topojson-client@3.1.0',
];
await timed(steps, 'node bundles in', () => {
  if (fs.existsSync(NODE_BUNDLES)) fs.cpSync(NODE_BUNDLES, nodeCache, { recursive: true });
  for (const v of NPM_VERSIONS) fs.mkdirSync(path.join(cache, '_npm', v), { recursive: true });
});

// 4. Framework's build over the folder.
const framework = '@observablehq/framework/dist';
const { normalizeConfig } = (await import(`${framework}/config.js`)) as { normalizeConfig(spec: object): object };
const { build } = (await import(`${framework}/build.js`)) as { build(options: { config: object }): Promise<void> };
await timed(steps, 'framework build', () => build({ config: normalizeConfig({ ...config, root: stage }) }));

// Keep the bundles this build made for the next ones: each file written beside and renamed in,
// so a build running at the same time never reads half a file.
await timed(steps, 'node bundles out', () => {
  if (!fs.existsSync(nodeCache)) return;
  for (const rel of fs.readdirSync(nodeCache, { recursive: true, encoding: 'utf8' })) {
    const from = path.join(nodeCache, rel);
    const to = path.join(NODE_BUNDLES, rel);
    if (!fs.statSync(from).isFile() || fs.existsSync(to)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const part = `${to}.${process.pid}`;
    fs.copyFileSync(from, part);
    fs.renameSync(part, to);
  }
});

// The processor time of the whole build (this process does all of it): on a loaded machine the
// wall-clock time mostly measures the wait for a processor, this does not.
const cpu = process.cpuUsage();
process.stdout.write(`site-build-steps ${JSON.stringify({ steps, loaders, cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)) })}\n`);
// Done: nothing is left to wait for (a pipe's write is synchronous), so the build ends here
// rather than when whatever Framework left open lets go.
process.exit(0);
