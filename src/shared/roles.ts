/**
 * The roles of the people and programs that use cashloop. What each role may do is the
 * permission matrix of the HTTP face (src/api/permissions.ts); the list itself lives here so
 * that user accounts (src/users) and API keys validate against the same names.
 */
export const ROLES = ['admin', 'sales', 'credit', 'logistics', 'finance', 'collector', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
