import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { page } from '../../shared/facing.ts';
import { createProduct, getProduct, listProducts } from '../../catalog/product.service.ts';
import { adjustStock, receiveStock } from '../../catalog/inventory.service.ts';
import { ListQuery, Money, Percent, Quantity, strict } from './schemas.ts';
import { MAX_QUANTITY } from '../../shared/bounds.ts';
import { Page, ProductResponse } from './responses.ts';

const Sku = Type.String({ minLength: 1, maxLength: 64 });

export const catalogRoutes: RouteSpec[] = [
  { method: 'GET', url: '/products', response: Page(ProductResponse), permission: 'products:read', tag: 'catalog', summary: 'List products with stock', querystring: Type.Composite([ListQuery, Type.Object({ category: Type.Optional(Type.String({ maxLength: 100 })) })]),
    handler: async (req, core) => { const q = req.query as { category?: string; after?: number; limit?: number }; const limit = q.limit ?? 100; const items = await listProducts(core, { category: q.category, afterId: q.after, limit }); return page(items, limit); } },
  { method: 'POST', url: '/products', response: ProductResponse, permission: 'products:write', tag: 'catalog', summary: 'Create a product', status: 201,
    body: Type.Object({ sku: Sku, name: Type.String({ minLength: 1, maxLength: 200 }), price: Money, category: Type.Optional(Type.String({ maxLength: 100 })), currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })), unitCost: Type.Optional(Money), taxRate: Type.Optional(Percent) }, strict),
    handler: async (req, core) => createProduct(core, req.body as never, actorOf(req)) },
  { method: 'GET', url: '/products/:sku', response: ProductResponse, permission: 'products:read', tag: 'catalog', summary: 'Show a product and its stock', params: Type.Object({ sku: Sku }),
    handler: async (req, core) => getProduct(core, (req.params as { sku: string }).sku) },
  { method: 'POST', url: '/stock/receipts', response: ProductResponse, permission: 'stock:write', tag: 'catalog', summary: 'Receive stock (backorders are reserved first)', status: 201,
    body: Type.Object({ sku: Sku, quantity: Quantity, reference: Type.Optional(Type.String({ maxLength: 200 })) }, strict),
    handler: async (req, core) => receiveStock(core, req.body as never, actorOf(req)) },
  { method: 'POST', url: '/stock/adjustments', response: ProductResponse, permission: 'stock:write', tag: 'catalog', summary: 'Correct stock on hand with a reason', status: 201,
    body: Type.Object({ sku: Sku, delta: Type.Integer({ minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY }), reason: Type.String({ minLength: 1, maxLength: 500 }) }, strict),
    handler: async (req, core) => adjustStock(core, req.body as never, actorOf(req)) },
];
