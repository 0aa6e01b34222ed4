import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a canonical extract shaped like a real retail system's (docs/extract.md), with what
 * real extracts carry and tidy samples do not:
 *   - product codes with spaces, slashes and lower case (`BANK CHARGES`, `POST`, `post`,
 *     `DOT`, `C2`, `c2`, `15C/BAG`), and free-of-charge lines at 0.00;
 *   - zero-amount invoices (free of charge), settled in the extract, and one left open;
 *   - lines, invoices and payments written twice, word for word;
 *   - orders, invoices and payments of customers the customers file does not list.
 * Deterministic for a given size, so a test and a benchmark see the same files. Used by
 * tests/onboarding/messy-extract.test.ts and `npm run bench:import -- --messy LINES`.
 */
export interface MessyExtract {
  dir: string;
  lines: number;
  invoices: number;
  payments: number;
}

const ODD_CODES = ['BANK CHARGES', 'POST', 'post', 'DOT', 'C2', 'c2', '15C/BAG', 'gift 0001'];

export function writeMessyExtract(dir: string, options: { orders: number; customers?: number; seed?: number }): MessyExtract {
  fs.mkdirSync(dir, { recursive: true });
  let state = (options.seed ?? 7) >>> 0;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const customers = options.customers ?? Math.max(5, Math.round(options.orders / 20));
  const products = ODD_CODES.length + Math.max(4, Math.round(options.orders / 50));
  const codes = [...ODD_CODES, ...Array.from({ length: products - ODD_CODES.length }, (_, i) => `P${String(i + 1).padStart(5, '0')}`)];
  const price = (i: number) => (codes[i] === 'DOT' || codes[i]!.startsWith('gift') ? 0 : 50 + ((i * 7919) % 20000)); // cents

  const out = (name: string) => {
    const fd = fs.openSync(path.join(dir, name), 'w');
    let buf = '';
    return {
      write(line: string) {
        buf += `${line}\n`;
        if (buf.length > 1 << 20) {
          fs.writeSync(fd, buf);
          buf = '';
        }
      },
      close() {
        fs.writeSync(fd, buf);
        fs.closeSync(fd);
      },
    };
  };
  const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const day0 = Date.UTC(2025, 0, 2) / 86_400_000;
  const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
  const csvText = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

  const c = out('customers.csv');
  c.write('customer_id,name,country,segment,currency,credit_limit,payment_terms_days');
  for (let i = 1; i <= customers; i += 1) c.write(`K${String(i).padStart(4, '0')},"Shop ${i}, Ltd",GB,retail,GBP,${money(100_000_00)},30`);
  c.close();

  const p = out('products.csv');
  p.write('product_id,name,category,unit_price,unit_cost');
  codes.forEach((code, i) => p.write(`${csvText(code)},${csvText(`Item ${code}`)},general,${money(price(i))},${money(Math.floor(price(i) / 2))}`));
  p.close();

  const l = out('order_lines.csv');
  const inv = out('invoices.csv');
  const pay = out('payments.csv');
  l.write('order_id,line_no,customer_id,order_date,product_id,quantity,unit_price,currency');
  inv.write('invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date');
  pay.write('payment_id,customer_id,payment_date,amount,currency,invoice_id');
  let lines = 0;
  let invoices = 0;
  let payments = 0;
  for (let o = 1; o <= options.orders; o += 1) {
    // One order in 25 names a customer the customers file does not list.
    const customer = o % 25 === 0 ? `X${String((o % 3) + 1).padStart(3, '0')}` : `K${String(rand(customers) + 1).padStart(4, '0')}`;
    const day = day0 + Math.floor((o * 180) / options.orders);
    const free = o % 40 === 0; // a free-of-charge order: every line at 0.00
    const count = 1 + rand(4);
    let total = 0;
    for (let n = 1; n <= count; n += 1) {
      const product = free ? ODD_CODES.indexOf('DOT') : rand(codes.length);
      const quantity = 1 + rand(12);
      const unit = free ? 0 : price(product);
      total += quantity * unit;
      const line = `O${o},${n},${customer},${iso(day)},${csvText(codes[product]!)},${quantity},${money(unit)},GBP`;
      l.write(line);
      lines += 1;
      if (rand(30) === 0) {
        l.write(line); // the same line twice, word for word
        lines += 1;
      }
    }
    // Most invoices are settled in the extract; a zero-amount one may be left open.
    const settled = o % 7 !== 0 ? iso(day + 5 + rand(40)) : '';
    const invoice = `I${o},${customer},${iso(day)},${iso(day + 30)},${money(total)},GBP,${o % 11 === 0 ? 'yes' : 'no'},${settled}`;
    inv.write(invoice);
    invoices += 1;
    if (rand(40) === 0) inv.write(invoice);
    if (settled && total > 0 && o % 3 === 0) {
      // Part paid by a payment row naming the invoice; the settled date covers the rest.
      const row = `Y${o},${customer},${settled},${money(Math.ceil(total / 2))},GBP,I${o}`;
      pay.write(row);
      payments += 1;
      if (rand(40) === 0) pay.write(row);
    }
  }
  // A payment on account from a customer the customers file does not list.
  pay.write(`Y0,X900,${iso(day0 + 10)},12.34,GBP,`);
  payments += 1;
  l.close();
  inv.close();
  pay.close();
  return { dir, lines, invoices, payments };
}
