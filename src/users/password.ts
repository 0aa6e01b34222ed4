import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (node:crypto), a memory-hard function: every guess costs an
 * attacker who holds the table the same 128 MiB of memory and the same time as it costs the
 * server, so guessing on graphics cards or custom chips gains little.
 *
 * Parameters (OWASP's recommendation for scrypt): N = 2^17 (cost), r = 8 (block size), p = 1,
 * so 128 · N · r = 128 MiB per hash; a 16-byte random salt per password; a 32-byte result.
 * They are stored with the hash — `scrypt$17$8$1$<salt>$<hash>` (N as its power of two, salt
 * and hash in base64url) — so a hash made with other parameters still verifies, and raising
 * them later needs no migration. The hash runs on libuv's thread pool, not the event loop.
 */
export const SCRYPT = { log2N: 17, r: 8, p: 1, saltBytes: 16, keyBytes: 32 } as const;

const derive = (password: string, salt: Buffer, log2N: number, r: number, p: number, keyBytes: number): Promise<Buffer> => {
  const options: ScryptOptions = { N: 2 ** log2N, r, p, maxmem: 2 * 128 * 2 ** log2N * r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))));
};

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltBytes);
  const key = await derive(password, salt, SCRYPT.log2N, SCRYPT.r, SCRYPT.p, SCRYPT.keyBytes);
  return ['scrypt', SCRYPT.log2N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` is the one `stored` was made from (compared in constant time); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [log2N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![log2N, r, p].every((n) => Number.isInteger(n) && n > 0) || log2N > 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || expected.length < 16) return false;
  const key = await derive(password, salt, log2N, r, p, expected.length);
  return timingSafeEqual(key, expected);
}

/** A hash of no password anybody has: verified against when the name is unknown, so an unknown name takes as long as a wrong password. */
let decoy: Promise<string> | undefined;
export const decoyHash = (): Promise<string> => (decoy ??= hashPassword(randomBytes(24).toString('base64url')));
