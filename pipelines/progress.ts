import cliProgress from 'cli-progress';

/** A progress bar on a terminal; silent otherwise (pipes, CI, tests, `quiet`). */
export interface Progress {
  start(label: string, total: number): void;
  increment(by: number): void;
  stop(): void;
}

const silent: Progress = { start() {}, increment() {}, stop() {} };

export function createProgress(quiet: boolean | undefined): Progress {
  if (quiet || !process.stderr.isTTY) return silent;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(label, total) {
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(18)} [{bar}] {percentage}% {value}/{total}, eta {eta}s`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    increment(by) {
      bar?.increment(by);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
