import type { Core } from '../../src/core.ts';
import { createCustomer, type CustomerInput } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';

export const actor = 'test';

/** A customer (EUR, 30 days) and a product WIDGET at 12.50 with 20 % tax and `stock` on hand. */
export async function seedBasics(core: Core, options: { creditLimit?: string; stock?: number; customer?: Partial<CustomerInput> } = {}) {
  const customer = await createCustomer(core, { name: 'Acme GmbH', creditLimit: options.creditLimit ?? '10000', paymentTermsDays: 30, currency: 'EUR', ...options.customer }, actor);
  const product = await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20', category: 'Hardware', unitCost: '7.00' }, actor);
  if ((options.stock ?? 100) > 0) await receiveStock(core, { sku: 'WIDGET', quantity: options.stock ?? 100 }, actor);
  return { customer, product };
}

export async function countEvents(core: Core): Promise<number> {
  const r = await core.db.kysely.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
