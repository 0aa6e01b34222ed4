import type { Random } from './random.ts';
import { HABIT_MIX, habitProfile, type Habit, type HabitProfile } from './habits.ts';
import { DEFAULT_CURRENCIES, drawCurrency, roundIn, type CurrencyMix } from './currencies.ts';

/**
 * The demo company on paper: who the customers are, what the catalogue holds, and the
 * rhythms (seasonality, trend, growth) the simulation draws from. Pure: the generator turns
 * this plan into documents by calling the core's services.
 */

export interface CategoryPlan {
  name: string;
  /** Month (1–12) of the seasonal peak and its amplitude (0 = flat). */
  peakMonth: number;
  amplitude: number;
  /** Yearly growth of demand, e.g. 0.2 = +20 % a year. */
  trend: number;
  taxPercent: number;
  priceRange: [number, number];
}

export const CATEGORIES: CategoryPlan[] = [
  { name: 'Garden', peakMonth: 5, amplitude: 0.6, trend: 0.1, taxPercent: 19, priceRange: [8, 240] },
  { name: 'Heating', peakMonth: 12, amplitude: 0.7, trend: -0.05, taxPercent: 19, priceRange: [25, 480] },
  { name: 'Office', peakMonth: 9, amplitude: 0.1, trend: 0.03, taxPercent: 19, priceRange: [2, 60] },
  { name: 'Electronics', peakMonth: 11, amplitude: 0.4, trend: 0.25, taxPercent: 19, priceRange: [30, 900] },
  { name: 'Food & Beverage', peakMonth: 7, amplitude: 0.2, trend: 0.05, taxPercent: 7, priceRange: [2, 45] },
  { name: 'Safety', peakMonth: 3, amplitude: 0.15, trend: 0.15, taxPercent: 19, priceRange: [5, 150] },
];

/** Demand factor of a category in a month, `yearsIn` years after the start. */
export function categoryFactor(c: CategoryPlan, month: number, yearsIn: number): number {
  return (1 + c.amplitude * Math.cos((2 * Math.PI * (month - c.peakMonth)) / 12)) * (1 + c.trend) ** yearsIn;
}

export interface ProductPlan {
  sku: string;
  name: string;
  category: CategoryPlan;
  priceMinor: number;
  costMinor: number;
  /** Typical order quantity (cheap goods sell in bigger lots). */
  lotSize: number;
  /** Day the product is launched (0 = from the start). */
  launchDay: number;
  /** Supplier lead time in days and how much safety stock purchasing keeps (weeks). */
  leadDays: number;
  safetyWeeks: number;
  /** Popularity weight within its category. */
  weight: number;
}

export type Segment = 'retail' | 'wholesale' | 'public' | 'online';

export interface CustomerPlan {
  key: string;
  name: string;
  country: string;
  segment: Segment;
  termsDays: number;
  /** The currency the customer buys and pays in (the catalogue is priced in EUR; see currencies.ts). */
  currency: string;
  habit: Habit;
  profile: HabitProfile;
  /** Orders per month at the start (before growth and seasonality). */
  ordersPerMonth: number;
  /** Multiplies line quantities: a customer's order size. */
  size: number;
  /** Categories the customer buys, with weights. */
  categories: [CategoryPlan, number][];
  /** In minor units of the customer's currency. */
  creditLimitMinor: number;
  joinDay: number;
  email: string;
  iban: string;
}

const COUNTRIES: readonly (readonly [string, number, string[]])[] = [
  ['DE', 40, ['GmbH', 'AG', 'KG', 'e.K.']],
  ['AT', 10, ['GmbH', 'KG']],
  ['NL', 12, ['B.V.', 'N.V.']],
  ['FR', 12, ['SARL', 'SAS', 'SA']],
  ['BE', 6, ['BV', 'SRL']],
  ['IT', 8, ['S.r.l.', 'S.p.A.']],
  ['PL', 6, ['Sp. z o.o.', 'S.A.']],
  ['ES', 6, ['S.L.', 'S.A.']],
];

const IBAN_LENGTH: Record<string, number> = { DE: 22, AT: 20, NL: 18, FR: 27, BE: 16, IT: 27, PL: 28, ES: 24 };

const SYLLABLES = ['al', 'ber', 'cor', 'dan', 'el', 'fal', 'gran', 'hel', 'in', 'jor', 'kal', 'lum', 'mar', 'nor', 'or', 'pel', 'quin', 'ros', 'sol', 'tor', 'ul', 'ven', 'wes', 'zen'];
const TRADES = ['Handel', 'Supply', 'Trading', 'Logistics', 'Retail', 'Werke', 'Services', 'Distribution', 'Market', 'Bau'];
const PUBLIC = ['City of', 'District of', 'University of', 'Hospital', 'School Board'];
const NOUNS: Record<string, string[]> = {
  Garden: ['Hose', 'Rake', 'Planter', 'Seed Mix', 'Shears', 'Sprinkler', 'Lawn Feed', 'Trellis'],
  Heating: ['Radiator', 'Thermostat', 'Heat Pump Kit', 'Pellet Bag', 'Fan Heater', 'Valve Set'],
  Office: ['Paper A4', 'Toner', 'Binder', 'Stapler', 'Desk Lamp', 'Notebook', 'Pen Box', 'Label Roll'],
  Electronics: ['Monitor', 'Router', 'Headset', 'Tablet', 'Dock', 'Webcam', 'SSD', 'Charger'],
  'Food & Beverage': ['Coffee Beans', 'Tea Box', 'Water Case', 'Juice Case', 'Snack Box', 'Cocoa'],
  Safety: ['Gloves', 'Helmet', 'Vest', 'Goggles', 'First Aid Kit', 'Ear Plugs', 'Boots'],
};

function companyName(rng: Random, country: string, suffixes: string[], segment: Segment): string {
  const word = () => {
    const w = rng.pick(SYLLABLES) + rng.pick(SYLLABLES) + (rng.chance(0.4) ? rng.pick(SYLLABLES) : '');
    return w[0]!.toUpperCase() + w.slice(1);
  };
  if (segment === 'public') return `${rng.pick(PUBLIC)} ${word()}`;
  return `${word()} ${rng.pick(TRADES)} ${rng.pick(suffixes)}`;
}

/** An IBAN of the country's length with valid ISO 13616 check digits (mod 97). */
export function makeIban(rng: Random, country: string): string {
  const length = IBAN_LENGTH[country] ?? 22;
  let bban = '';
  if (country === 'NL') bban = rng.pick(['ABNA', 'INGB', 'RABO', 'TRIO']);
  while (bban.length < length - 4) bban += String(rng.int(0, 9));
  const numeric = `${bban}${country}00`.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rem = 0;
  for (const digit of numeric) rem = (rem * 10 + Number(digit)) % 97;
  return `${country}${String(98 - rem).padStart(2, '0')}${bban}`;
}

export interface CompanyPlan {
  customers: CustomerPlan[];
  products: ProductPlan[];
}

/**
 * Draws the company: `customerCount` customers (about 70 % there from the start, the rest
 * joining over the period: growth) and a catalogue of about one product per five customers
 * (20–240), a tenth of it launched during the period.
 */
export function planCompany(rng: Random, customerCount: number, totalDays: number, currencies: CurrencyMix = DEFAULT_CURRENCIES): CompanyPlan {
  const productCount = Math.max(20, Math.min(240, Math.round(customerCount / 5)));
  const products: ProductPlan[] = [];
  const perCategory = new Map<string, number>();
  for (let i = 0; i < productCount; i++) {
    const r = rng.fork(`product-${i}`);
    const category = CATEGORIES[i % CATEGORIES.length]!;
    const n = (perCategory.get(category.name) ?? 0) + 1;
    perCategory.set(category.name, n);
    const price = Math.round(r.logNormal(Math.sqrt(category.priceRange[0] * category.priceRange[1]), 0.5) * 100);
    const priceMinor = Math.max(category.priceRange[0] * 100, Math.min(category.priceRange[1] * 100, price));
    const noun = NOUNS[category.name]![(n - 1) % NOUNS[category.name]!.length]!;
    products.push({
      sku: `${category.name.slice(0, 3).toUpperCase()}-${String(n).padStart(3, '0')}`,
      name: `${noun} ${['Basic', 'Pro', 'Plus', 'Max', 'Eco', 'Prime'][Math.floor(n / NOUNS[category.name]!.length) % 6]}`,
      category,
      priceMinor,
      costMinor: Math.round(priceMinor * r.float(0.45, 0.75)),
      lotSize: Math.max(1, Math.round(r.logNormal(1500 / (priceMinor / 100 + 15), 0.3))),
      launchDay: i >= productCount * 0.9 ? r.int(Math.floor(totalDays * 0.2), Math.floor(totalDays * 0.8)) : 0,
      leadDays: r.int(5, 21),
      safetyWeeks: r.chance(0.25) ? 0.3 : r.float(1, 2.5),
      weight: r.logNormal(1, 0.6),
    });
  }

  const meanLineMinor = products.reduce((s, p) => s + p.lotSize * p.priceMinor * 1.08, 0) / products.length;
  const customers: CustomerPlan[] = [];
  for (let i = 0; i < customerCount; i++) {
    const r = rng.fork(`customer-${i}`);
    const key = `C${String(i + 1).padStart(5, '0')}`;
    const [country, , suffixes] = r.weighted(COUNTRIES.map((c) => [c, c[1]] as const));
    const segment = r.weighted<Segment>([['retail', 45], ['wholesale', 25], ['public', 12], ['online', 18]]);
    // Every company has at least one customer of each habit once it has seven customers.
    const habit: Habit = i < HABIT_MIX.length && customerCount >= HABIT_MIX.length ? HABIT_MIX[i]![0] : r.weighted(HABIT_MIX);
    const termsDays = segment === 'wholesale' ? r.pick([30, 45, 60]) : segment === 'public' ? 30 : r.pick([14, 30, 30, 30]);
    const size = r.logNormal(segment === 'wholesale' ? 2.2 : segment === 'online' ? 0.6 : 1, 0.5);
    const ordersPerMonth = Math.min(12, r.logNormal(segment === 'online' ? 2.2 : 1.2, 0.5));
    const picks = r.shuffle(CATEGORIES).slice(0, r.int(2, 4));
    const categories = picks.map((c, k) => [c, k === 0 ? 3 : 1] as [CategoryPlan, number]);
    // Limit: about the exposure of 1–3 months of purchases at the customer's terms.
    const monthlyValue = ordersPerMonth * 2.2 * size * meanLineMinor * 1.19;
    const creditLimitEur = Math.max(500_000, Math.round((monthlyValue * (termsDays / 30 + 1) * r.float(1, 2.5)) / 100_000) * 100_000);
    const name = companyName(r, country, suffixes, segment);
    const profile = habitProfile(habit, r, totalDays);
    const joinDay = i < customerCount * 0.7 ? 0 : r.int(1, Math.floor(totalDays * 0.85));
    const iban = makeIban(r, country);
    // Drawn last, and only for a mix of currencies: a one-currency company stays as it was.
    const currency = drawCurrency(currencies, r);
    customers.push({
      key,
      name,
      country,
      segment,
      termsDays,
      currency,
      habit,
      profile,
      ordersPerMonth,
      size,
      categories,
      creditLimitMinor: roundIn(creditLimitEur, currency, 100_000),
      joinDay,
      email: `ap@${name.toLowerCase().replace(/[^a-z]+/g, '')}.example`,
      iban,
    });
  }
  return { customers, products };
}
