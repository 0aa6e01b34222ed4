import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { createCustomer, getCustomer, setCustomerStatus, updateCustomer } from '../../src/customers/customer.service.ts';
import { createProduct, getProduct } from '../../src/catalog/product.service.ts';
import { adjustStock, receiveStock } from '../../src/catalog/inventory.service.ts';
import { readEvents } from '../../src/events/event.repository.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe(`customers and catalog on ${testDialect}`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore();
  });
  afterEach(async () => t.cleanup());

  it('creates a customer once per external id and records one event per change', async () => {
    const { core } = t;
    const a = await createCustomer(core, { name: 'Acme', externalId: 'ERP-1', creditLimit: '2500.50', paymentTermsDays: '45', currency: 'USD', iban: 'de89 3704 0044 0532 0130 00' }, actor);
    expect(a).toMatchObject({ created: true, creditLimitMinor: 250_050, paymentTermsDays: 45, currency: 'USD', iban: 'DE89370400440532013000', status: 'active' });
    const again = await createCustomer(core, { name: 'Acme renamed', externalId: 'ERP-1' }, actor);
    expect(again).toMatchObject({ id: a.id, created: false, name: 'Acme' });
    expect(await countEvents(core)).toBe(1);
    await updateCustomer(core, a.id, { creditLimit: '3000', riskClass: 'B' }, actor);
    await setCustomerStatus(core, a.id, 'blocked', 'legal dispute', actor);
    expect(await getCustomer(core, a.id)).toMatchObject({ creditLimitMinor: 300_000, riskClass: 'B', status: 'blocked' });
    const events = await readEvents(core.db.kysely, 0);
    expect(events.map((e) => e.event_type)).toEqual(['customer.created', 'customer.updated', 'customer.blocked']);
    expect((events[2]!.payload as { customers: { status: string }[] }).customers[0]!.status).toBe('blocked');
    await expect(setCustomerStatus(core, a.id, 'blocked', 'again', actor)).rejects.toThrow(/already blocked/);
  });

  it('names the field, value and rule of bad customer and product input', async () => {
    const { core } = t;
    const cases: [() => Promise<unknown>, string, string][] = [
      [() => createCustomer(core, { name: '' }, actor), 'name', 'required'],
      [() => createCustomer(core, { name: 'X', currency: 'euro' }, actor), 'currency', 'currency_code'],
      [() => createCustomer(core, { name: 'X', creditLimit: '-1' }, actor), 'creditLimit', 'amount_not_negative'],
      [() => createCustomer(core, { name: 'X', paymentTermsDays: 400 }, actor), 'paymentTermsDays', 'maximum'],
      [() => createCustomer(core, { name: 'X', iban: 'nope' }, actor), 'iban', 'iban_format'],
      [() => createProduct(core, { sku: 'bad sku', name: 'X', price: '1' }, actor), 'sku', 'sku_format'],
      [() => createProduct(core, { sku: 'A1', name: 'X', price: '1,50' }, actor), 'price', 'amount_format'],
      [() => createProduct(core, { sku: 'A1', name: 'X', price: '1', taxRate: '120' }, actor), 'taxRate', 'percent_range'],
    ];
    for (const [p, field, rule] of cases) {
      const e = (await p().then(() => null, (x: unknown) => x)) as DomainError;
      expect(e, `${field}`).toBeInstanceOf(DomainError);
      expect(e.detail).toMatchObject({ field, rule });
    }
    expect(await countEvents(core)).toBe(0);
  });

  it('keeps stock movements with reasons and refuses duplicates', async () => {
    const { core } = t;
    await createProduct(core, { sku: 'A1', name: 'Anvil', price: '99.90', taxRate: '7.5', category: 'Tools' }, actor);
    await expect(createProduct(core, { sku: 'A1', name: 'Anvil 2', price: '1' }, actor)).rejects.toThrow(/product A1 already exists/);
    await receiveStock(core, { sku: 'A1', quantity: 10, reference: 'PO-1' }, actor);
    await adjustStock(core, { sku: 'A1', delta: -2, reason: 'damaged in store' }, actor);
    expect(await getProduct(core, 'A1')).toMatchObject({ onHand: 8, reserved: 0, taxRateBp: 750, listPriceMinor: 9_990 });
    const moves = await core.db.kysely.selectFrom('stock_movements').select(['kind', 'quantity', 'reason']).orderBy('id').execute();
    expect(moves).toEqual([{ kind: 'receipt', quantity: 10, reason: 'receipt' }, { kind: 'adjustment', quantity: -2, reason: 'damaged in store' }]);
    await expect(receiveStock(core, { sku: 'NOPE', quantity: 1 }, actor)).rejects.toThrow(/product NOPE does not exist/);
  });
});
