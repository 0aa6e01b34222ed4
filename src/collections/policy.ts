import { invalid } from '../shared/errors.ts';
import { divRoundHalfUp, parseAmount, parsePercent } from '../shared/money.ts';
import { checkText } from '../shared/validate.ts';

/**
 * Dunning policies: the levels an overdue invoice climbs, by days relative to its due date
 * (negative: a friendly reminder before the due date). Each level has a template (the tone
 * of the letter), an optional fee per letter and yearly interest on the overdue amount, and
 * actions taken when an invoice reaches it (`credit_hold`: the customer's new orders are held
 * while such an invoice is open; `hand_over`: the account is escalated to collections).
 */
export const TEMPLATES = ['friendly', 'reminder', 'final'] as const;
export type Template = (typeof TEMPLATES)[number];
export const LEVEL_ACTIONS = ['credit_hold', 'hand_over'] as const;
export type LevelAction = (typeof LEVEL_ACTIONS)[number];

export interface DunningLevel {
  level: number;
  name: string;
  /** Days after the due date (negative: before it) from which an invoice is at this level. */
  days: number;
  template: Template;
  /** Fee per letter at this level, a decimal in the customer's currency ("0" for none). */
  fee: string;
  /** Yearly interest on the overdue balance, in basis points (800 = 8 %). */
  interestBp: number;
  actions: LevelAction[];
  /** Optional opening paragraph replacing the template's. */
  intro: string | null;
}

export interface DunningPolicy {
  name: string;
  levels: DunningLevel[];
}

/** The policy every company starts with (setting `collections.default_policy` names it). */
export const STANDARD_POLICY: DunningPolicy = {
  name: 'standard',
  levels: [
    { level: 1, name: 'Friendly reminder', days: -3, template: 'friendly', fee: '0', interestBp: 0, actions: [], intro: null },
    { level: 2, name: 'First reminder', days: 7, template: 'reminder', fee: '0', interestBp: 0, actions: [], intro: null },
    { level: 3, name: 'Second reminder', days: 21, template: 'reminder', fee: '5.00', interestBp: 0, actions: [], intro: null },
    { level: 4, name: 'Final notice', days: 45, template: 'final', fee: '10.00', interestBp: 800, actions: ['credit_hold', 'hand_over'], intro: null },
  ],
};

/**
 * Checks a policy written by a user (JSON) and returns it in canonical form. Levels are
 * numbered 1…n in order of strictly increasing days; every problem names its field.
 */
export function parsePolicy(input: unknown): DunningPolicy {
  if (typeof input !== 'object' || input === null) throw invalid('a dunning policy must be an object with name and levels', { field: 'policy', rule: 'object' });
  const o = input as Record<string, unknown>;
  if (typeof o.name !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,39}$/.test(o.name)) {
    throw invalid(`policy name must be 1–40 lower-case letters, digits, - or _, got ${JSON.stringify(o.name)}`, { field: 'name', value: o.name, rule: 'policy_name' });
  }
  if (!Array.isArray(o.levels) || o.levels.length === 0 || o.levels.length > 9) {
    throw invalid('policy levels must be a list of 1 to 9 levels', { field: 'levels', value: o.levels, rule: 'levels_listed' });
  }
  const levels = o.levels.map((raw, i): DunningLevel => {
    const f = (name: string) => `levels.${i}.${name}`;
    if (typeof raw !== 'object' || raw === null) throw invalid(`${f('')} must be an object`, { field: `levels.${i}`, rule: 'object' });
    const l = raw as Record<string, unknown>;
    if (l.level !== undefined && l.level !== i + 1) throw invalid(`${f('level')} must be ${i + 1} (levels are numbered in order), got ${JSON.stringify(l.level)}`, { field: f('level'), value: l.level, rule: 'level_in_order' });
    if (typeof l.name !== 'string' || l.name.trim() === '' || l.name.length > 80) throw invalid(`${f('name')} must be a text of 1–80 characters`, { field: f('name'), value: l.name, rule: 'text' });
    checkText(l.name, f('name'));
    if (typeof l.days !== 'number' || !Number.isInteger(l.days) || l.days < -60 || l.days > 730) {
      throw invalid(`${f('days')} must be a whole number of days from -60 to 730 relative to the due date, got ${JSON.stringify(l.days)}`, { field: f('days'), value: l.days, rule: 'days_range' });
    }
    const template = l.template ?? (l.days < 0 ? 'friendly' : 'reminder');
    if (!TEMPLATES.includes(template as Template)) throw invalid(`${f('template')} must be one of ${TEMPLATES.join(', ')}, got ${JSON.stringify(template)}`, { field: f('template'), value: template, rule: 'one_of' });
    const fee = l.fee === undefined ? '0' : String(l.fee);
    if (!/^\d+(\.\d{1,2})?$/.test(fee)) throw invalid(`${f('fee')} must be a decimal amount like 5.00, got ${JSON.stringify(l.fee)}`, { field: f('fee'), value: l.fee, rule: 'amount_format' });
    // The fee is charged in each customer's currency, up to three decimals: ten whole digits
    // keep it within the largest amount in all of them.
    if (fee.replace(/^0+(?=\d)/, '').split('.')[0]!.length > 10) throw invalid(`${f('fee')} must be at most 9999999999.99, got ${fee}`, { field: f('fee'), value: l.fee, rule: 'amount_max' });
    const interestBp = l.interestRatePercent === undefined ? 0 : parsePercent(l.interestRatePercent, f('interestRatePercent'));
    const actions = l.actions === undefined ? [] : l.actions;
    if (!Array.isArray(actions) || actions.some((a) => !LEVEL_ACTIONS.includes(a as LevelAction))) {
      throw invalid(`${f('actions')} must be a list of ${LEVEL_ACTIONS.join(', ')}, got ${JSON.stringify(l.actions)}`, { field: f('actions'), value: l.actions, rule: 'one_of' });
    }
    if (l.intro !== undefined && l.intro !== null && (typeof l.intro !== 'string' || l.intro.length > 2000)) throw invalid(`${f('intro')} must be a text of at most 2000 characters`, { field: f('intro'), rule: 'text' });
    if (typeof l.intro === 'string') checkText(l.intro, f('intro'));
    return { level: i + 1, name: l.name.trim(), days: l.days, template: template as Template, fee, interestBp, actions: [...new Set(actions as LevelAction[])], intro: (l.intro as string | undefined) ?? null };
  });
  for (let i = 1; i < levels.length; i++) {
    if (levels[i]!.days <= levels[i - 1]!.days) {
      throw invalid(`levels.${i}.days must be later than level ${i}'s ${levels[i - 1]!.days} days, got ${levels[i]!.days}`, { field: `levels.${i}.days`, value: levels[i]!.days, rule: 'days_increasing' });
    }
  }
  return { name: o.name, levels };
}

/** How a policy is written in a file or an API body (the inverse of parsePolicy). */
export function policyToJson(p: DunningPolicy): { name: string; levels: Record<string, unknown>[] } {
  return {
    name: p.name,
    levels: p.levels.map((l) => ({ level: l.level, name: l.name, days: l.days, template: l.template, fee: l.fee, interestRatePercent: l.interestBp / 100, actions: l.actions, ...(l.intro ? { intro: l.intro } : {}) })),
  };
}

/**
 * The level an invoice has reached on a day: the highest level whose days are at or below
 * its days past due (`daysPastDue` = day − due date; negative before the due date). Null
 * when it has reached none. An invoice reached by nothing yet is not reminded.
 *
 * @example levelFor(STANDARD_POLICY, 7)?.level // 2 (due a week ago)
 */
export function levelFor(policy: DunningPolicy, daysPastDue: number): DunningLevel | null {
  let found: DunningLevel | null = null;
  for (const l of policy.levels) if (daysPastDue >= l.days) found = l;
  return found;
}

/** The letter fee of a level in a currency's minor units. */
export function levelFeeMinor(level: DunningLevel, currency: string): number {
  return parseAmount(level.fee, currency, `levels.${level.level - 1}.fee`);
}

/**
 * Interest on an overdue balance for its days past due at the level's yearly rate, simple
 * interest on a 365-day year, rounded half up to the minor unit. Nothing before the due date.
 *
 * @example interestMinor(100_000, 800, 45) // 986 (1,000.00 × 8 % × 45 / 365 = 9.86)
 */
export function interestMinor(balanceMinor: number, yearlyBp: number, daysPastDue: number): number {
  if (yearlyBp === 0 || daysPastDue <= 0 || balanceMinor <= 0) return 0;
  return Number(divRoundHalfUp(BigInt(balanceMinor) * BigInt(yearlyBp) * BigInt(daysPastDue), 10_000n * 365n));
}
