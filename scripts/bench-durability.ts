// npm run bench:durability [-- --seconds 5 --rounds 3 --dir DIR]: what SQLite's synchronous=FULL
// (the default, CASHLOOP_SQLITE_SYNCHRONOUS) costs against NORMAL. Order creations through the
// core's own service (createOrder: one transaction with its lines, history and event row),
// one after another, on a fresh database per mode, the two modes taking turns so that a busy
// neighbour on the machine slows both alike. Prints orders/s per round and the median of each.
// The database goes in the data directory's file system by default, because a commit's cost
// is the sync of the disk the real database lives on (a tmpfs would hide it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openCore, closeCore, type Core } from '../src/core.ts';
import { dataDir } from '../src/db/connection.ts';
import { createCustomer } from '../src/customers/customer.service.ts';
import { createProduct } from '../src/catalog/product.service.ts';
import { receiveStock } from '../src/catalog/inventory.service.ts';
import { createOrder } from '../src/orders/order.service.ts';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const seconds = Number(option('seconds', '5'));
const rounds = Number(option('rounds', '3'));
const parent = path.resolve(option('dir', dataDir()));
fs.mkdirSync(parent, { recursive: true });
const dir = fs.mkdtempSync(path.join(parent, 'bench-durability-'));
const modes = ['normal', 'full'] as const;
type Mode = (typeof modes)[number];

/** Opens a database in the given mode; the mode is read from the environment when the connection opens. */
async function open(mode: Mode): Promise<{ core: Core; customerId: number; mode: string }> {
  process.env.CASHLOOP_SQLITE_SYNCHRONOUS = mode;
  const core = await openCore({ url: `sqlite:${path.join(dir, `${mode}.db`)}` });
  // What the connection really runs with, read back rather than assumed (0 off, 1 normal, 2 full).
  const raw = await sql<{ synchronous: number }>`pragma synchronous`.execute(core.db.kysely);
  const actual = ['off', 'normal', 'full', 'extra'][Number(raw.rows[0]?.synchronous)] ?? '?';
  if (actual !== mode) throw new Error(`the ${mode} database runs with synchronous=${actual}: the comparison would not mean anything`);
  const customer = await createCustomer(core, { name: 'Bench Ltd', creditLimit: '1000000000', currency: 'EUR' }, 'bench');
  await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'bench');
  await receiveStock(core, { sku: 'WIDGET', quantity: 100_000_000 }, 'bench');
  return { core, customerId: customer.id, mode: actual };
}

async function round(core: Core, customerId: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await createOrder(core, { customerId, lines: [{ sku: 'WIDGET', quantity: 2 }] }, 'bench');
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`cashloop durability benchmark: order creations through the core, ${rounds} rounds of ${seconds} s per mode, SQLite in WAL mode at ${dir}`);
// A shared machine's other work slows both modes: the load says how busy it was.
console.log(`${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`);
const opened = { normal: await open('normal'), full: await open('full') };
const results: Record<Mode, number[]> = { normal: [], full: [] };
try {
  for (let r = 0; r < rounds; r++) {
    // Alternate which mode goes first, so neither always runs on a warmer machine.
    for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) results[mode].push(await round(opened[mode].core, opened[mode].customerId));
    console.log(`round ${r + 1}: normal ${results.normal.at(-1)!.toFixed(0).padStart(6)} orders/s   full ${results.full.at(-1)!.toFixed(0).padStart(6)} orders/s`);
  }
} finally {
  for (const o of Object.values(opened)) await closeCore(o.core);
  fs.rmSync(dir, { recursive: true, force: true });
}
const normal = median(results.normal);
const full = median(results.full);
console.log(`median: synchronous=NORMAL ${normal.toFixed(0)} orders/s, synchronous=FULL ${full.toFixed(0)} orders/s (FULL is ${((1 - full / normal) * 100).toFixed(0)} % slower)`);
