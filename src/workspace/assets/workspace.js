/* global document */
// The workspace's own script, served from this server like htmx (no inline script: the pages'
// Content-Security-Policy refuses it). One job: focus that follows a swap only where the person
// left it.
//
// Choosing a customer at order entry swaps the customer's field in again, and a keyboard user
// who pressed Enter on "Choose …" should land back in that field. htmx's `autofocus` did that
// unconditionally, when the swap settled: a person who had meanwhile clicked into the product
// search and started typing lost the focus mid-word, and the rest of the word went into the
// customer's field. Here an element marked `data-refocus` takes the focus only when nothing
// else holds it (the focused "Choose" button went away with the swap).
document.addEventListener('htmx:afterSettle', () => {
  for (const el of document.querySelectorAll('[data-refocus]')) {
    el.removeAttribute('data-refocus');
    const active = document.activeElement;
    if (!active || active === document.body || active === document.documentElement) el.focus();
  }
});
