import type { Command } from 'commander';
import { withCore, cliActor } from '../context.ts';
import { emitDocument, table } from '../output.ts';
import { page } from '../../shared/facing.ts';
import { amount, productText } from '../format.ts';
import { createProduct, getProduct, listProducts } from '../../catalog/product.service.ts';
import { adjustStock, receiveStock } from '../../catalog/inventory.service.ts';
import { amountOption, type Json } from './args.ts';

/** Products and stock (the API's catalog.routes.ts). */
export function registerCatalog(program: Command): void {
  const product = program.command('product').description('products: create, show, list');
  product
    .command('create')
    .requiredOption('--sku <sku>')
    .requiredOption('--name <name>')
    .requiredOption('--price <amount>', 'unit price', amountOption('price'))
    .option('--tax-rate <percent>', 'tax rate in percent', '0')
    .option('--category <category>')
    .option('--cost <amount>', 'unit cost', amountOption('unitCost'), '0')
    .option('--currency <code>')
    .option('--json')
    .action(async (o: Json & Record<string, string>) =>
      withCore(async (core) => emitDocument(await createProduct(core, { sku: o.sku!, name: o.name!, price: o.price!, taxRate: o.taxRate, category: o.category, unitCost: o.cost, currency: o.currency }, cliActor()), o, (p) => `created: ${productText(p)}`)),
    );
  product.command('show <sku>').option('--json').action(async (sku: string, o: Json) => withCore(async (core) => emitDocument(await getProduct(core, sku), o, productText)));
  product
    .command('list')
    .option('--category <category>')
    .option('--json')
    .action(async (o: Json & { category?: string }) =>
      withCore(async (core) => emitDocument(page(await listProducts(core, { category: o.category, limit: 1000 }), 1000), o, (l) => table(l.items.map((p) => ({ sku: p.sku, name: p.name, category: p.category, price: amount(p.listPriceMinor, p.currency), currency: p.currency, on_hand: p.onHand, reserved: p.reserved, available: p.available }))))),
    );

  const stock = program.command('stock').description('stock: receive, adjust, show');
  stock
    .command('receive')
    .requiredOption('--sku <sku>')
    .requiredOption('--qty <quantity>')
    .option('--reference <text>')
    .option('--json')
    .action(async (o: Json & { sku: string; qty: string; reference?: string }) => withCore(async (core) => emitDocument(await receiveStock(core, { sku: o.sku, quantity: o.qty, reference: o.reference }, cliActor()), o, productText)));
  stock
    .command('adjust')
    .requiredOption('--sku <sku>')
    .requiredOption('--delta <quantity>', 'signed change, e.g. -3')
    .requiredOption('--reason <reason>')
    .option('--json')
    .action(async (o: Json & { sku: string; delta: string; reason: string }) => withCore(async (core) => emitDocument(await adjustStock(core, { sku: o.sku, delta: o.delta, reason: o.reason }, cliActor()), o, productText)));
  stock.command('show <sku>').option('--json').action(async (sku: string, o: Json) => withCore(async (core) => emitDocument(await getProduct(core, sku), o, productText)));
}
