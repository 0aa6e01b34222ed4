import { invalid } from '../shared/errors.ts';
import { currencyExponent, parseCurrency } from '../shared/money.ts';
import type { Random } from './random.ts';

/**
 * The currencies the demo company sells in. The catalogue is priced in EUR (the company's
 * currency); a customer buying in another currency gets the company's price list for that
 * currency: the EUR price times a fixed list factor, rounded half up to the currency's
 * exponent (whole yen, cents of a dollar). Order lines carry that price explicitly, as the
 * core asks when the product's and the customer's currencies differ.
 */

/** A currency and its share of the customers (percent, or any positive weight). */
export type CurrencyMix = readonly (readonly [string, number])[];

export const DEFAULT_CURRENCIES: CurrencyMix = [['EUR', 100]];

/**
 * Price-list factors from EUR, as exact decimals (the demo's list prices, not market
 * rates; the sample of reference rates in data/samples/ is near them). A currency not
 * listed cannot be chosen.
 */
export const PRICE_LIST_FACTORS: Record<string, string> = {
  EUR: '1', USD: '1.10', GBP: '0.85', CHF: '0.95', JPY: '160', SEK: '11.5', PLN: '4.3', KWD: '0.34',
};

/**
 * Parses `EUR:70,USD:20,JPY:10` (a bare `EUR` means `EUR:100`). Each code is a currency the
 * price list knows, once; weights are whole numbers above 0.
 */
export function parseCurrencyMix(text: string, field = 'currencies'): CurrencyMix {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw invalid(`${field} must list at least one currency, e.g. EUR:70,USD:20,JPY:10, got ${JSON.stringify(text)}`, { field, value: text, rule: 'currency_mix' });
  const seen = new Set<string>();
  return parts.map((part) => {
    const m = /^([A-Za-z]{3})(?::(\d+))?$/.exec(part);
    if (!m) throw invalid(`${field}: ${JSON.stringify(part)} must be CODE:WEIGHT, e.g. USD:20`, { field, value: part, rule: 'currency_mix' });
    const code = parseCurrency(m[1]!.toUpperCase(), field);
    if (!(code in PRICE_LIST_FACTORS)) {
      throw invalid(`${field}: the demo has no price list in ${code}; choose from ${Object.keys(PRICE_LIST_FACTORS).join(', ')}`, { field, value: code, rule: 'currency_supported' });
    }
    if (seen.has(code)) throw invalid(`${field}: ${code} is listed twice`, { field, value: code, rule: 'currency_unique' });
    seen.add(code);
    const weight = m[2] === undefined ? 100 : Number(m[2]);
    if (!Number.isSafeInteger(weight) || weight < 1) throw invalid(`${field}: the weight of ${code} must be a whole number above 0, got ${m[2]}`, { field, value: part, rule: 'currency_weight' });
    return [code, weight] as const;
  });
}

export function formatCurrencyMix(mix: CurrencyMix): string {
  return mix.map(([c, w]) => `${c}:${w}`).join(',');
}

/** A customer's currency, drawn from the mix (no draw at all when there is one currency, so a one-currency company is unchanged). */
export function drawCurrency(mix: CurrencyMix, rng: Random): string {
  if (mix.length === 1) return mix[0]![0];
  return rng.weighted(mix);
}

/**
 * An amount in EUR minor units (cents) in `currency`'s minor units by the price list:
 * exact decimal arithmetic in BigInt, rounded half up (away from zero) once.
 *
 * @example priceIn(1999, 'JPY') // 3198 (19.99 EUR × 160 = 3198.4 yen)
 */
export function priceIn(eurMinor: number, currency: string): number {
  if (currency === 'EUR') return eurMinor;
  const factor = PRICE_LIST_FACTORS[currency];
  if (factor === undefined) throw invalid(`the demo has no price list in ${currency}`, { field: 'currency', value: currency, rule: 'currency_supported' });
  const [whole, frac = ''] = factor.split('.');
  const num = BigInt(whole! + frac) * 10n ** BigInt(currencyExponent(currency));
  const den = 10n ** BigInt(frac.length + currencyExponent('EUR'));
  const n = BigInt(eurMinor) * num;
  const sign = n < 0n ? -1n : 1n;
  const abs = n < 0n ? -n : n;
  return Number(sign * ((abs * 2n + den) / (2n * den)));
}

/** A round amount of a currency: `eurMinor` converted, then rounded to `stepEur` cents' worth (credit limits in round thousands). */
export function roundIn(eurMinor: number, currency: string, stepEurMinor: number): number {
  const step = Math.max(1, priceIn(stepEurMinor, currency));
  return Math.round(priceIn(eurMinor, currency) / step) * step;
}
