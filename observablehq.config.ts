// Observable Framework configuration for the published reports (source in reports/).
// The pages are built offline: no web font, nothing fetched from a CDN.
export default {
  title: 'cashloop',
  root: 'reports',
  globalStylesheets: [],
};
