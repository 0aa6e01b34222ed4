import fs from 'node:fs';

/** Debian's Chromium, launched the way this project's machines allow (no downloads, no sandbox as root). */
export const chromiumPath = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(chromiumPath);
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
