// npm run bench:reports [-- --data-dir DIR]: builds the site from a data directory that holds a
// published warehouse (default ./data, as left by `npm run demo`) and prints the build time and
// every page's weight against the targets (build ≤ 30 s, no page over 1.5 MB).
import path from 'node:path';
import { buildReports } from '../reports/build.ts';

const i = process.argv.indexOf('--data-dir');
const dataDir = path.resolve(i > 0 ? process.argv[i + 1]! : process.env.CASHLOOP_DATA_DIR ?? 'data');
const result = await buildReports({ dataDir, quiet: true });
const heaviest = Math.max(...result.pages.map((p) => p.bytes));
console.log(`site build: ${result.seconds.toFixed(1)} s (target ≤ 30 s) into ${result.siteDir}`);
for (const p of result.pages) console.log(`  ${p.page.padEnd(22)} ${(p.bytes / 1024).toFixed(0).padStart(6)} kB`);
console.log(`heaviest page: ${(heaviest / 1024 / 1024).toFixed(2)} MB (target ≤ 1.5 MB)`);
