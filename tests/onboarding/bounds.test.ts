import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { importFile } from '../../src/onboarding/import.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

const rejection = async (p: Promise<unknown>): Promise<DomainError> => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
};

/**
 * Import files and bank statements follow the same bounds and text rule as typed input,
 * row by row: the report names each row, field and rule, and nothing is written.
 */
describe(`bounds and the text rule in files (${testDialect})`, () => {
  let t: TestCore;
  const file = (name: string, text: string) => {
    const p = path.join(t.dataDir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  beforeEach(async () => {
    t = await createTestCore('2026-03-05T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('rejects import rows with control characters or amounts and quantities past the maximum', async () => {
    const customers = file(
      'customers.csv',
      [
        'customer_id,name,country,segment,currency,credit_limit,payment_terms_days',
        'C1,"Müller & Söhne\nNord",DE,retail,EUR,99999999999.99,30',
        'C2,Beta\u0000AG,CH,retail,EUR,10,14',
        'C\t3,Gamma,FR,retail,EUR,10,14',
        'C4,Delta,DE,retail,EUR,100000000000.00,30',
        'C5,Epsilon,DE,re\u0007tail,EUR,10,30',
      ].join('\n'),
    );
    const e = await rejection(importFile(t.core, { entity: 'customers', file: customers, actor }));
    expect(e.problems.map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 2', 'name', 'control_character'],
      ['row 3', 'customer_id', 'control_character'],
      ['row 4', 'credit_limit', 'amount_max'],
      ['row 5', 'segment', 'control_character'],
    ]);
    expect(await countEvents(t.core)).toBe(0);

    const r = await importFile(t.core, { entity: 'customers', file: customers, actor, acceptValid: true });
    expect(r).toMatchObject({ accepted: 1, rejected: 4, created: 1 });
    fs.writeFileSync(path.join(t.dataDir, 'products.csv'), 'product_id,name,category,unit_price,unit_cost\nP-1,Big,Hardware,99999999999.99,0\n');
    await importFile(t.core, { entity: 'products', file: path.join(t.dataDir, 'products.csv'), actor });
    const events = await countEvents(t.core);
    const lines = file(
      'order_lines.csv',
      [
        'order_id,line_no,customer_id,order_date,product_id,quantity,unit_price,currency',
        'SO-1,1,C1,2026-01-10,P-1,2,99999999999.99,EUR', // the line passes the maximum
        'SO-2,1,C1,2026-01-10,P-1,1,60000000000.00,EUR',
        'SO-2,2,C1,2026-01-10,P-1,1,40000000000.00,EUR', // the order passes it at its second line
        'SO-3,1,C1,2026-01-10,P-1,1000000000,0.01,EUR', // a quantity past the maximum
      ].join('\n'),
    );
    const o = await rejection(importFile(t.core, { entity: 'orders', file: lines, actor }));
    expect(o.problems.filter((p) => p.rule !== 'group_rejected').map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 1', 'quantity', 'amount_max'],
      ['row 3', 'quantity', 'amount_max'],
      ['row 4', 'quantity', 'integer_range'],
    ]);
    expect(await countEvents(t.core)).toBe(events);
  });

  it('rejects a bank statement whose entries hold control characters, in CSV and in camt.053', async () => {
    await createCustomer(t.core, { name: 'Beta AG', externalId: 'C2', currency: 'EUR' }, actor);
    const csv = file('bank.csv', ['entry_ref,booking_date,amount,currency,payer_name,remittance', 'B-1,2026-03-03,60.00,EUR,Beta\u0000AG,"AR-1\nthanks"', 'B-2,2026-03-03,100000000000.00,EUR,Beta AG,x', 'B-3,2026-03-03,1.00,EUR,Beta AG,"tab\tand line\nbreak are fine here"'].join('\n'));
    const e = await rejection(importBankStatement(t.core, { file: csv, actor }));
    expect(e.problems.map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 1 (line 2)', 'payer_name', 'control_character'],
      ['row 2 (line 4)', 'amount', 'amount_max'],
    ]);
    const xml = fs
      .readFileSync(path.resolve(import.meta.dirname, '../fixtures/bank/camt053-2026-03-02.xml'), 'utf8')
      .replace('<Ustrd>Payment of invoice AR-10003, thank you</Ustrd>', '<Ustrd>Payment\u0000 of invoice AR-10003</Ustrd>')
      .replace('<Nm>Beta AG</Nm>', '<Nm>Beta\u0001 AG</Nm>');
    const c = await rejection(importBankStatement(t.core, { file: file('camt.xml', xml), actor }));
    expect(c.problems.map((p) => [p.field, p.rule])).toEqual([
      ['payer_name', 'control_character'],
      ['remittance', 'control_character'],
    ]);
    expect(c.message).toMatch(/nothing was written/);
    expect(await countEvents(t.core)).toBe(1);
    expect(await t.core.db.kysely.selectFrom('bank_entries').select('id').execute()).toEqual([]);
  });
});
