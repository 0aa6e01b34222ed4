import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr while a TTY is attached, silent otherwise (pipes, CI, tests).
 * Returns the callback to feed and a `stop` to call when the work is done.
 */
export function progressBar(enabled = process.stderr.isTTY === true): { update(phase: string, done: number, total: number): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}% | {value}/{total}', stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let current: string | null = null;
  return {
    update(phase, done, total) {
      if (phase !== current) {
        if (current !== null) bar.stop();
        bar.start(Math.max(total, 1), 0, { phase: phase.padEnd(18) });
        current = phase;
      }
      bar.update(Math.min(done, total), { phase: phase.padEnd(18) });
    },
    stop() {
      if (current !== null) bar.stop();
      current = null;
    },
  };
}
