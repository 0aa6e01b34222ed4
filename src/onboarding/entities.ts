/**
 * The onboarding entities, one spec each in its own file, in the order a folder loads them:
 * customers, products, orders (order lines), invoices, payments.
 */
import type { Entity, EntitySpec } from './entity.ts';
import { customers } from './customers.entity.ts';
import { products } from './products.entity.ts';
import { orders } from './orders.entity.ts';
import { invoices } from './invoices.entity.ts';
import { payments } from './payments.entity.ts';

export const SPECS: Record<Entity, EntitySpec<unknown>> = {
  customers: customers as EntitySpec<unknown>,
  products: products as EntitySpec<unknown>,
  orders: orders as EntitySpec<unknown>,
  invoices: invoices as EntitySpec<unknown>,
  payments: payments as EntitySpec<unknown>,
};
