/**
 * All time in cashloop comes from a Clock, so that tests, replays and the demo generator
 * can move it. Business dates are `YYYY-MM-DD`; timestamps are ISO-8601 UTC.
 */
export interface Clock {
  /** Current instant. */
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until told to move; used by tests and the demo generator. */
export class ManualClock implements Clock {
  private current: Date;
  constructor(start: string | Date) {
    this.current = new Date(start);
    if (Number.isNaN(this.current.getTime())) throw new Error(`ManualClock: bad start ${String(start)}`);
  }
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(to: string | Date): void {
    this.current = new Date(to);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }
}

/**
 * The clock a process uses: `CASHLOOP_CLOCK=2026-03-01T09:00:00Z` pins it (useful to replay a
 * day or to walk through the README on fixed dates); otherwise the system clock.
 */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const pinned = env.CASHLOOP_CLOCK;
  return pinned ? new ManualClock(pinned) : systemClock;
}

export const isoNow = (clock: Clock): string => clock.now().toISOString();
export const today = (clock: Clock): string => clock.now().toISOString().slice(0, 10);
