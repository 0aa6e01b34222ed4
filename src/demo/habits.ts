import type { Random } from './random.ts';

/**
 * Payment habits of the demo company's customers. A habit is persistent: it decides, for
 * every invoice the customer receives, when and how it gets paid. The habit is the ground
 * truth the manifest records, so credit scores and payment-date forecasts can be checked
 * against it (a model should rank `prompt` above `stops_paying`).
 */
export const HABITS = ['prompt', 'steady_late', 'erratic', 'seasonal', 'deteriorating', 'dispute_prone', 'stops_paying'] as const;
export type Habit = (typeof HABITS)[number];

/** What each habit means, for the manifest and the README. */
export const HABIT_TEXT: Record<Habit, string> = {
  prompt: 'pays in full on or a few days before the due date',
  steady_late: 'pays in full about 2–4 weeks after the due date, every time',
  erratic: 'anything from early to seven weeks late, often in instalments, more bounced payments',
  seasonal: 'on time most of the year, 4–7 weeks late for invoices due mid-November to January',
  deteriorating: 'starts prompt and pays later and later as the period goes on',
  dispute_prone: 'disputes about a third of its invoices: pays the undisputed part, the rest ends in a credit note',
  stops_paying: 'pays late until a stop date, then pays nothing; later blocked, remainders left open',
};

/** Share of customers per habit (at least one `stops_paying` customer in any company). */
export const HABIT_MIX: readonly (readonly [Habit, number])[] = [
  ['prompt', 30],
  ['steady_late', 20],
  ['erratic', 13],
  ['seasonal', 10],
  ['deteriorating', 10],
  ['dispute_prone', 11],
  ['stops_paying', 6],
];

export interface HabitProfile {
  habit: Habit;
  /** Chance an invoice is paid in two instalments. */
  partialRate: number;
  /** Chance a payment bounces (is reversed by the bank a few days later). */
  bounceRate: number;
  /** Chance a payment is a little short (bank charges), the rest later written off. */
  shortRate: number;
  /** Chance a payment is more than what is owed (the surplus stays as credit). */
  overRate: number;
  /** Chance an invoice is disputed (part of it ends in a credit note). */
  disputeRate: number;
  /** Day index (from the start) when deterioration begins / payments stop. */
  turnDay: number | null;
}

export function habitProfile(habit: Habit, rng: Random, totalDays: number): HabitProfile {
  const base: HabitProfile = { habit, partialRate: 0.05, bounceRate: 0.015, shortRate: 0.04, overRate: 0.025, disputeRate: 0.01, turnDay: null };
  switch (habit) {
    case 'prompt':
      return { ...base, partialRate: 0.02, bounceRate: 0.005, shortRate: 0.05 };
    case 'steady_late':
      return { ...base, partialRate: 0.08 };
    case 'erratic':
      return { ...base, partialRate: 0.35, bounceRate: 0.06, overRate: 0.04, disputeRate: 0.03 };
    case 'seasonal':
      return base;
    case 'deteriorating':
      return { ...base, bounceRate: 0.03, turnDay: Math.floor(totalDays * rng.float(0.15, 0.45)) };
    case 'dispute_prone':
      return { ...base, disputeRate: 0.33, partialRate: 0.04 };
    case 'stops_paying':
      return { ...base, partialRate: 0.15, bounceRate: 0.05, turnDay: Math.floor(totalDays * rng.float(0.35, 0.75)) };
  }
}

/**
 * Days after the due date the customer pays an invoice due on `dueDate` (negative: early),
 * given how far into the period (`day`) the invoice was issued.
 */
export function daysLate(p: HabitProfile, rng: Random, dueDate: string, day: number, totalDays: number): number {
  switch (p.habit) {
    case 'prompt':
      return -rng.int(0, 8);
    case 'steady_late':
      return Math.max(7, Math.round(rng.normal(21, 4)));
    case 'erratic':
      return rng.int(-12, 50);
    case 'seasonal': {
      const md = dueDate.slice(5);
      const yearEnd = md >= '11-15' || md <= '01-31';
      return yearEnd ? rng.int(30, 50) : Math.round(rng.normal(1, 3));
    }
    case 'deteriorating': {
      const turn = p.turnDay ?? 0;
      const progress = day <= turn ? 0 : (day - turn) / Math.max(1, totalDays - turn);
      return Math.round(-3 + 90 * progress * progress + rng.normal(0, 3 + 10 * progress));
    }
    case 'dispute_prone':
      return Math.round(rng.normal(6, 5));
    case 'stops_paying':
      return Math.max(5, Math.round(rng.normal(28, 8)));
  }
}
