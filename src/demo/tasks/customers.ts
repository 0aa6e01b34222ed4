import { currencyExponent, formatAmount, parseAmount } from '../../shared/money.ts';
import { createCustomer } from '../../customers/customer.service.ts';
import { assignCustomer, getPolicy, savePolicy } from '../../collections/policy.service.ts';
import { policyToJson } from '../../collections/policy.ts';
import { type CustomerPlan } from '../company.ts';
import { priceIn } from '../currencies.ts';
import { type Simulation } from '../state.ts';

/** Customers: created as they join (with a dunning policy in whole units where the currency has no cents). */

export async function addCustomer(ctx: Simulation, c: CustomerPlan, day: number) {
  const { core, actor, counts, call, rng, customers } = ctx;
  const created = await call('createCustomer', () =>
    createCustomer(
      core,
      {
        name: c.name, country: c.country, segment: c.segment, currency: c.currency, paymentTermsDays: c.termsDays,
        creditLimit: formatAmount(c.creditLimitMinor, c.currency), email: c.email, iban: c.iban, externalId: c.key,
        salesRep: ['Anna', 'Ben', 'Chloé', 'David'][Number(c.key.slice(1)) % 4]!,
      },
      actor,
    ),
  );
  customers.push({ plan: c, id: created.id, rng: rng.fork(`life-${c.key}`), stopped: false, blocked: false });
  if (currencyExponent(c.currency) < 2) await wholeUnitPolicy(ctx, created.id, c.currency);
  counts.customers++;
  if (day > 0) counts.customersJoinedLater++;
}

/**
 * The standard dunning policy's letter fees (5.00, 10.00) have cents a yen does not: a
 * customer in a currency without them gets the policy with its fees by the price list,
 * in whole units (800 and 1600 yen).
 */
export async function wholeUnitPolicy(ctx: Simulation, customerId: number, currency: string) {
  const { core, actor, call, settings, policies } = ctx;
  const name = `standard-${currency.toLowerCase()}`;
  if (!policies.has(name)) {
    const standard = policyToJson(await getPolicy(core.db.kysely, settings['collections.default_policy']));
    const levels = standard.levels.map((l) => ({ ...l, fee: String(priceIn(parseAmount(String(l.fee), 'EUR'), currency) / 10 ** currencyExponent(currency)) }));
    await call('savePolicy', () => savePolicy(core, { name, levels }, `${actor}:collections`));
    policies.add(name);
  }
  await call('assignCustomer', () => assignCustomer(core, { customerId, policy: name }, `${actor}:collections`));
}
