import path from 'node:path';

// Observable Framework configuration of the published reports (source in reports/).
// Built offline: no web font (globalStylesheets: []), every library imported from
// node_modules by the pages, nothing fetched from a CDN. The site is written into the data
// directory (`CASHLOOP_DATA_DIR`, default ./data) as `site/`, or `CASHLOOP_SITE_DIR`.
const dataDir = path.resolve(process.env.CASHLOOP_DATA_DIR ?? 'data');

export default {
  title: 'cashloop',
  root: 'reports',
  output: process.env.CASHLOOP_SITE_DIR ?? path.join(dataDir, 'site'),
  globalStylesheets: [],
  // The default theme plus the Inputs stylesheet from node_modules (see reports/style.css).
  style: 'style.css',
  head: `<style>
    .asof { color: var(--theme-foreground-muted); margin-top: -0.5rem; }
    .kpi .big { font-size: 1.6rem; font-weight: 600; display: block; margin: 0.25rem 0; }
    .kpi .sub, .card.empty p { color: var(--theme-foreground-muted); font-size: 0.85rem; }
    .kpi h2 a { text-decoration: none; }
  </style>`,
  footer: 'cashloop — figures from the published warehouse snapshot; definitions in <a href="./definitions">Measure definitions</a>.',
  pages: [
    { name: 'Overview', path: '/index' },
    { name: 'Customer', path: '/customer' },
    { name: 'Receivables & aging', path: '/aging' },
    { name: 'Collections', path: '/collections' },
    { name: 'Customers', path: '/customers' },
    { name: 'Cash forecast', path: '/cash' },
    { name: 'Sales', path: '/sales' },
    { name: 'Fulfilment', path: '/fulfilment' },
    { name: 'Data health', path: '/health' },
    { name: 'Measure definitions', path: '/definitions' },
  ],
  search: false,
  // No previous/next links: the sidebar lists every page (the pager would call the home page by the site's title).
  pager: false,
  // Links end in .html, so the built folder works on any static web server as it is.
  cleanUrls: false,
};
