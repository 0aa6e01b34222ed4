import { ROLES, type Role } from '../shared/roles.ts';

export { ROLES, type Role };

/**
 * The permission matrix, written once: which roles may do what. Every route names one
 * permission; the auth hook refuses (403) a key whose role is not listed. The README's table
 * is this object.
 */
const ALL: Role[] = [...ROLES];

export const PERMISSIONS = {
  'customers:read': ALL,
  'customers:write': ['admin', 'sales', 'credit'],
  'products:read': ALL,
  'products:write': ['admin', 'logistics'],
  'stock:write': ['admin', 'logistics'],
  'orders:read': ALL,
  'orders:write': ['admin', 'sales'],
  'credit:read': ['admin', 'sales', 'credit', 'finance', 'collector', 'viewer'],
  'credit:decide': ['admin', 'credit'],
  'shipments:read': ALL,
  'shipments:write': ['admin', 'logistics'],
  'invoices:read': ALL,
  'invoices:write': ['admin', 'finance'],
  'payments:read': ['admin', 'sales', 'credit', 'finance', 'collector', 'viewer'],
  'payments:write': ['admin', 'finance'],
  'statements:read': ['admin', 'sales', 'credit', 'finance', 'collector', 'viewer'],
  'collections:read': ['admin', 'sales', 'credit', 'finance', 'collector', 'viewer'],
  'collections:write': ['admin', 'credit', 'finance', 'collector'],
  'collections:run': ['admin', 'finance', 'collector'],
  'collections:configure': ['admin', 'finance'],
  'disputes:resolve': ['admin', 'credit', 'finance'],
  'reports:read': ALL,
  // Issuing and withdrawing customers' portal links.
  'access:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allowed(role: string, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly string[]).includes(role);
}
