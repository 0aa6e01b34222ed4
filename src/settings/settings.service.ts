import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database } from '../db/schema.ts';
import { invalid } from '../shared/errors.ts';
import { MAX_AMOUNT_MINOR } from '../shared/bounds.ts';
import { checkText } from '../shared/validate.ts';
import { prepared } from '../db/prepared.ts';

/**
 * Company settings the rules read. Stored in the `settings` table; every key has a default
 * so a fresh database works as documented.
 */
export interface Settings {
  /** An order is held when the customer has an invoice more than this many days overdue. */
  'credit.max_days_overdue': number;
  /** Risk class D holds orders whose exposure exceeds this share (percent) of the limit. */
  'credit.class_d_limit_share': number;
  /** Risk classes whose customers buy on prepayment terms, comma-separated (`E`, `D,E`; '' = none): their orders wait for a payment covering them before they ship. */
  'credit.prepayment_classes': string;
  /** Invoice automatically at `shipment` or at `delivery`. */
  'invoicing.trigger': 'shipment' | 'delivery';
  /** Largest remaining balance (minor units) that may be written off. */
  'payments.write_off_tolerance_minor': number;
  /** Default currency of new customers and products. */
  'company.currency': string;
  /** The currency the warehouse converts every currency's KPIs and aging into (exchange rates: `cashloop rates load`). */
  'reporting.currency': string;
  /** The company's name, as letters and statements are signed. */
  'company.name': string;
  /** Sender address of reminders and statements. */
  'company.email': string;
  /** How to pay, printed on every reminder and statement (bank account, reference to quote). */
  'company.payment_instructions': string;
  /** The account customers pay into, printed in the "how to pay" block of invoices and statements ('' = not set). */
  'company.iban': string;
  /** The bank's BIC (SWIFT code) of that account ('' = not set). */
  'company.bic': string;
  /** The bank holding that account ('' = not set). */
  'company.bank_name': string;
  /** Dunning policy of customers without their own (src/collections/policy.ts). */
  'collections.default_policy': string;
  /** Days after its date a promise to pay may still be kept (bank transfers take a while). */
  'collections.promise_grace_days': number;
  /** Hours an API Idempotency-Key and its stored answer are kept; after that the key is new again. */
  'api.idempotency_ttl_hours': number;
  /** Largest bank statement file (camt.053 or CSV) read, in MB of 1 048 576 bytes; larger ones are refused unread. */
  'bank.max_file_mb': number;
  /** Days a new customer portal token works (src/api/keys.service.ts). */
  'portal.token_days': number;
  /** A browser session unused for this many hours ends (src/api/auth). */
  'access.session_idle_hours': number;
  /** A browser session ends this many hours after sign-in, used or not. */
  'access.session_max_hours': number;
}

export const defaultSettings: Settings = {
  'credit.max_days_overdue': 30,
  'credit.class_d_limit_share': 50,
  'credit.prepayment_classes': '',
  'invoicing.trigger': 'delivery',
  'payments.write_off_tolerance_minor': 500,
  'company.currency': 'EUR',
  'reporting.currency': 'EUR',
  'company.name': 'Our company',
  'company.email': 'receivables@example.com',
  'company.payment_instructions': 'Please pay by bank transfer, quoting the invoice numbers.',
  'company.iban': '',
  'company.bic': '',
  'company.bank_name': '',
  'collections.default_policy': 'standard',
  'collections.promise_grace_days': 3,
  'api.idempotency_ttl_hours': 24,
  'bank.max_file_mb': 20,
  'portal.token_days': 90,
  'access.session_idle_hours': 12,
  'access.session_max_hours': 168,
};

type Key = keyof Settings;

/** Upper bounds of the whole-number settings: days, a percent, an amount in minor units. */
const SETTING_MAX = {
  'credit.max_days_overdue': 3650,
  'credit.class_d_limit_share': 100,
  'payments.write_off_tolerance_minor': MAX_AMOUNT_MINOR,
  'collections.promise_grace_days': 3650,
};

function parseSetting(key: string, value: string): Settings[Key] {
  switch (key as Key) {
    case 'credit.max_days_overdue':
    case 'credit.class_d_limit_share':
    case 'payments.write_off_tolerance_minor':
    case 'collections.promise_grace_days': {
      if (!/^\d+$/.test(value)) throw invalid(`setting ${key} must be a whole number, got ${value}`, { field: key, value, rule: 'integer' });
      return Number(value);
    }
    // Zero would issue tokens and sessions that are dead on arrival.
    case 'portal.token_days':
    case 'access.session_idle_hours':
    case 'access.session_max_hours': {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3650 * 24) throw invalid(`setting ${key} must be a whole number from 1 to 87600, got ${value}`, { field: key, value, rule: 'positive_integer' });
      return Number(value);
    }
    case 'invoicing.trigger':
      if (value !== 'shipment' && value !== 'delivery') {
        throw invalid(`setting ${key} must be shipment or delivery, got ${value}`, { field: key, value, rule: 'one_of' });
      }
      return value;
    case 'company.currency':
    case 'reporting.currency':
      if (!/^[A-Z]{3}$/.test(value)) throw invalid(`setting ${key} must be an ISO 4217 code, got ${value}`, { field: key, value, rule: 'currency_code' });
      return value;
    case 'company.name':
    case 'company.payment_instructions':
      if (value.trim() === '' || value.length > 1000) throw invalid(`setting ${key} must be a text of 1–1000 characters`, { field: key, value, rule: 'text' });
      return value;
    // An empty value takes the bank details off invoices and statements again.
    case 'company.iban':
      return value === '' ? '' : companyIban(key, value);
    case 'company.bic': {
      if (value === '') return '';
      // Stored as typed; read in capitals without spaces, as banks print it.
      const bic = value.replace(/\s+/g, '').toUpperCase();
      if (!/^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$/.test(bic)) throw invalid(`setting ${key} must be a BIC of 8 or 11 letters and digits (bank, country, location, branch), got ${value}`, { field: key, value, rule: 'bic_format' });
      return bic;
    }
    case 'company.bank_name':
      if (value === '') return '';
      if (value.trim() === '' || value.length > 200) throw invalid(`setting ${key} must be a text of 1–200 characters`, { field: key, value, rule: 'text' });
      return value.trim();
    case 'company.email':
      if (!/^[^\s@]+@[^\s@]+$/.test(value)) throw invalid(`setting ${key} must be an e-mail address, got ${value}`, { field: key, value, rule: 'email' });
      return value;
    case 'api.idempotency_ttl_hours':
      // At least an hour, so a client's retries (seconds to minutes apart) always find their key; at most a year.
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 8760) {
        throw invalid(`setting ${key} must be a whole number of hours from 1 to 8760, got ${value}`, { field: key, value, rule: 'hours_1_to_8760' });
      }
      return Number(value);
    case 'bank.max_file_mb': {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1000) throw invalid(`setting ${key} must be a whole number of MB from 1 to 1000, got ${value}`, { field: key, value, rule: 'integer_range' });
      return Number(value);
    }
    case 'credit.prepayment_classes': {
      const classes = value.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '');
      const bad = classes.find((c) => !['A', 'B', 'C', 'D', 'E'].includes(c));
      if (bad !== undefined) throw invalid(`setting ${key} must list risk classes A–E separated by commas, got ${value}`, { field: key, value, rule: 'risk_classes' });
      return [...new Set(classes)].join(',');
    }
    case 'collections.default_policy':
      if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(value)) throw invalid(`setting ${key} must name a dunning policy, got ${value}`, { field: key, value, rule: 'policy_name' });
      return value;
    default:
      throw invalid(`unknown setting ${key}; known: ${Object.keys(defaultSettings).join(', ')}`, { field: 'key', value: key, rule: 'known_setting' });
  }
}

/**
 * The company's IBAN, checked as a bank checks it (ISO 13616: country, check digits, account;
 * the whole number mod 97 is 1), because a typo here sends every customer's payment astray.
 * Read back in capitals without spaces.
 */
function companyIban(key: string, value: string): string {
  const iban = value.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) throw invalid(`setting ${key} must be an IBAN (country, two check digits, 10–30 letters and digits), got ${value}`, { field: key, value, rule: 'iban_format' });
  // Digits of the rearranged number (letters as 10–35), reduced mod 97 a digit at a time.
  let rest = 0;
  for (const c of iban.slice(4) + iban.slice(0, 4)) {
    for (const d of String(parseInt(c, 36))) rest = (rest * 10 + Number(d)) % 97;
  }
  if (rest !== 1) throw invalid(`setting ${key}: ${value} is not a valid IBAN (its check digits do not match)`, { field: key, value, rule: 'iban_checksum' });
  return iban;
}

// Every credit check and invoice reads them: built once (src/db/prepared.ts).
const allSettings = prepared((db, _d) => db.selectFrom('settings').selectAll());

export async function getSettings(db: Kysely<Database>): Promise<Settings> {
  const rows = await allSettings.execute(db);
  const settings: Settings = { ...defaultSettings };
  for (const r of rows) {
    if (r.key in defaultSettings) (settings as unknown as Record<string, unknown>)[r.key] = parseSetting(r.key, r.value);
  }
  return settings;
}

export async function setSetting(core: Core, key: string, value: string, actor: string): Promise<Settings> {
  parseSetting(key, value);
  // Bounds are checked when a value is set, not when one is read: a value stored before a
  // bound existed keeps working.
  const max = SETTING_MAX[key as keyof typeof SETTING_MAX] as number | undefined;
  if (max !== undefined && Number(value) > max) throw invalid(`setting ${key} must be at most ${max}, got ${value}`, { field: key, value, rule: key.endsWith('_minor') ? 'amount_max' : 'maximum' });
  checkText(value, key, { multiline: key === 'company.payment_instructions' });
  await runChange(core, actor, async ({ trx, at }) => {
    const existing = await trx.selectFrom('settings').select('key').where('key', '=', key).executeTakeFirst();
    if (existing) await trx.updateTable('settings').set({ value, updated_at: at }).where('key', '=', key).execute();
    else await trx.insertInto('settings').values({ key, value, updated_at: at }).execute();
    return { result: null, events: [{ type: 'setting.changed', aggregate: 'setting', id: key, after: { settings: [{ key, value, updated_at: at }] } }] };
  });
  return getSettings(core.db.kysely);
}

/**
 * This database's installation id: a random id written once (migration 0010), never
 * settable, so every Message-ID the outbox sends is unique across installations. A copy of
 * the database (a backup restored) is the same installation and keeps it.
 */
export async function installationId(db: Kysely<Database>): Promise<string> {
  const read = async () => (await db.selectFrom('settings').select('value').where('key', '=', 'installation.id').executeTakeFirst())?.value;
  const found = await read();
  if (found) return found;
  // Only a database whose row was removed by hand gets here; two processes racing write one.
  await db.insertInto('settings').values({ key: 'installation.id', value: randomUUID(), updated_at: new Date().toISOString() }).onConflict((oc) => oc.column('key').doNothing()).execute();
  return (await read())!;
}
