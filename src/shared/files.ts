import fs from 'node:fs';

/** Owner read and write only: database files hold every customer's money, keys' hashes and sessions. */
export const PRIVATE_MODE = 0o600;

/**
 * Makes the files that exist among `files` readable by their owner only (0600), whatever the
 * umask made them. Missing files are skipped.
 */
export function keepPrivate(...files: string[]): void {
  for (const file of files) {
    try {
      fs.chmodSync(file, PRIVATE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Creates `file` empty with mode 0600 unless it exists, then makes sure it is 0600. SQLite
 * gives its -wal and -shm files the mode of the database file, so creating that one private
 * first keeps all three private from the first byte.
 */
export function createPrivate(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_MODE));
  keepPrivate(file);
}
