import type { Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database } from '../db/schema.ts';
import { notFound } from '../shared/errors.ts';
import { optionalText, requireId } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { toCustomer, type Customer } from '../customers/customer.service.ts';
import { parsePolicy, policyToJson, STANDARD_POLICY, type DunningPolicy } from './policy.ts';

/** Every stored policy, and the built-in `standard` one unless a stored policy replaces it. */
export async function listPolicies(db: Kysely<Database>): Promise<DunningPolicy[]> {
  const rows = await db.selectFrom('dunning_policies').selectAll().orderBy('name').execute();
  const stored = rows.map((r) => parsePolicy({ name: r.name, levels: JSON.parse(r.levels) as unknown }));
  return stored.some((p) => p.name === STANDARD_POLICY.name) ? stored : [STANDARD_POLICY, ...stored];
}

export async function getPolicy(db: Kysely<Database>, name: string): Promise<DunningPolicy> {
  const found = (await listPolicies(db)).find((p) => p.name === name);
  if (!found) throw notFound('dunning policy', name);
  return found;
}

/** Creates or replaces a policy (levels as in docs/collections.md). */
export async function savePolicy(core: Core, input: unknown, actor: string): Promise<DunningPolicy> {
  const policy = parsePolicy(input);
  const levels = JSON.stringify(policyToJson(policy).levels);
  return runChange(core, actor, async ({ trx, at }) => {
    const existing = await trx.selectFrom('dunning_policies').select('name').where('name', '=', policy.name).executeTakeFirst();
    const row = existing
      ? await trx.updateTable('dunning_policies').set({ levels, updated_at: at }).where('name', '=', policy.name).returningAll().executeTakeFirstOrThrow()
      : await trx.insertInto('dunning_policies').values({ name: policy.name, levels, created_at: at, updated_at: at }).returningAll().executeTakeFirstOrThrow();
    return { result: policy, events: [{ type: 'dunning_policy.saved', aggregate: 'dunning_policy', id: policy.name, after: { dunning_policies: [row] } }] };
  });
}

/** Resolves each customer's policy: its own, else the company default. */
export async function policiesFor(db: Kysely<Database>, customers: { id: number; dunning_policy: string | null }[]): Promise<Map<number, DunningPolicy>> {
  const all = await listPolicies(db);
  const settings = await getSettings(db);
  const byName = new Map(all.map((p) => [p.name, p]));
  const fallback = byName.get(settings['collections.default_policy']);
  if (!fallback) throw notFound('dunning policy', settings['collections.default_policy']);
  const out = new Map<number, DunningPolicy>();
  for (const c of customers) {
    const own = c.dunning_policy ? byName.get(c.dunning_policy) : undefined;
    if (c.dunning_policy && !own) throw notFound('dunning policy', `${c.dunning_policy} (of customer ${c.id})`);
    out.set(c.id, own ?? fallback);
  }
  return out;
}

/** Assigns a customer to a collector and/or a dunning policy (null clears either). */
export async function assignCustomer(core: Core, input: { customerId: number | string; collector?: string | null; policy?: string | null }, actor: string): Promise<Customer> {
  const customerId = requireId(input.customerId, 'customerId');
  const collector = input.collector === undefined ? undefined : optionalText(input.collector, 'collector', 100);
  if (input.policy) await getPolicy(core.db.kysely, input.policy);
  return runChange(core, actor, async ({ trx, at }) => {
    const current = await trx.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
    if (!current) throw notFound('customer', customerId);
    const set: { updated_at: string; collector?: string | null; dunning_policy?: string | null } = { updated_at: at };
    if (collector !== undefined) set.collector = collector;
    if (input.policy !== undefined) set.dunning_policy = input.policy || null;
    const updated = await trx.updateTable('customers').set(set).where('id', '=', customerId).returningAll().executeTakeFirstOrThrow();
    return { result: toCustomer(updated), events: [{ type: 'customer.collections_assigned', aggregate: 'customer', id: customerId, after: { customers: [updated] } }] };
  });
}
