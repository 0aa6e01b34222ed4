/**
 * Limits failed authentication per client address: after `max` refused keys, tokens, session
 * cookies or sign-in attempts within `windowMs`, that address gets 429 (with Retry-After)
 * until the window ends, and the secrets it sends are not even looked up — so nobody can keep
 * trying keys at full speed.
 *
 * Requests that succeed never count. While an address is held back, a secret that has
 * worked recently (from anywhere) is still checked as usual, so a working client behind the
 * same address as someone guessing keys (a shared office or proxy address) is not locked
 * out. The counters live in this process's memory: each server process keeps its own, and a
 * restart clears them.
 */
export interface FailedAuthOptions {
  /** Failures an address may have within the window (default 20). */
  max?: number;
  /** Length of the window in milliseconds (default one minute). */
  windowMs?: number;
  /** The time source (milliseconds); tests pass their own. */
  now?: () => number;
}

/** How many addresses and recently good secrets are remembered before the oldest are dropped. */
const REMEMBERED = 10_000;

export class FailedAuthLimiter {
  readonly max: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  // SHA-256 hashes of secrets that authenticated recently, newest last.
  private readonly good = new Map<string, number>();

  constructor(options: FailedAuthOptions = {}) {
    this.max = options.max ?? 20;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until `address` may try again, or 0 when it is not held back. */
  retryAfter(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const now = this.now();
    if (now >= entry.resetAt) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.max ? Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) : 0;
  }

  /** True when this request should be refused without looking its secret up. */
  holdsBack(address: string, secretHash: string | null): boolean {
    if (this.retryAfter(address) === 0) return false;
    return secretHash === null || !this.good.has(secretHash);
  }

  /** Counts one failed authentication from `address`. */
  fail(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (!entry || now >= entry.resetAt) {
      if (this.failures.size >= REMEMBERED) this.prune(now);
      this.failures.set(address, { count: 1, resetAt: now + this.windowMs });
    } else entry.count++;
  }

  /** Remembers a secret (by its hash) that has just authenticated. */
  succeeded(secretHash: string): void {
    this.good.delete(secretHash);
    this.good.set(secretHash, this.now());
    if (this.good.size > REMEMBERED) this.good.delete(this.good.keys().next().value!);
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) if (now >= entry.resetAt) this.failures.delete(address);
    // Still full of live entries: drop the oldest rather than grow without bound.
    while (this.failures.size >= REMEMBERED) this.failures.delete(this.failures.keys().next().value!);
  }
}
