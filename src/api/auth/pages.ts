/**
 * The server-rendered pages of access: sign-in, the signed-in home page, and the page a
 * customer sees when a portal link no longer works. Inline CSS, no script, no outside asset;
 * one column on a phone.
 */
export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;min-height:100vh;color:#1b1b1b;background:#f4f5f7;display:flex;align-items:flex-start;justify-content:center;padding:12vh 1rem 2rem}
main{width:100%;max-width:26rem;background:#fff;border:1px solid #e1e3e8;border-radius:10px;padding:1.6rem 1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.05)}
.brand{font-weight:700;letter-spacing:.02em;color:#2f5d8a;font-size:.95rem;margin:0 0 .9rem}
h1{font-size:1.35rem;margin:0 0 .4rem}
h2{font-size:1rem;margin:1.6rem 0 0;padding-top:1rem;border-top:1px solid #e1e3e8}
p{margin:.4rem 0}.muted{color:#5b6170;font-size:.9rem}.gap{margin-top:1.2rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=password],input[type=text]{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid #b9bec9;border-radius:6px}
#key{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
input[type=password]:focus,input[type=text]:focus{outline:2px solid #2f5d8a;outline-offset:1px;border-color:#2f5d8a}
button{margin-top:1rem;width:100%;font:inherit;font-weight:600;padding:.65rem;border:0;border-radius:6px;background:#2f5d8a;color:#fff;cursor:pointer}
button:hover{background:#244a6f}button.link{background:none;color:#2f5d8a;width:auto;padding:0;margin:0;font-weight:500;text-decoration:underline}
.alert{border-radius:6px;padding:.6rem .75rem;margin:.8rem 0;font-size:.95rem}.alert.error{background:#fdecec;color:#8a1c1c;border:1px solid #f3c4c4}.alert.info{background:#eaf2fb;color:#1f4468;border:1px solid #c6dbf1}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;background:#f0f1f4;padding:.05rem .3rem;border-radius:4px;overflow-wrap:anywhere}
ul.links{list-style:none;padding:0;margin:1rem 0}ul.links li{margin:.35rem 0}ul.links a{display:block;padding:.6rem .75rem;border:1px solid #e1e3e8;border-radius:6px;text-decoration:none;color:#1b1b1b}
ul.links a:hover{border-color:#2f5d8a}ul.links span{display:block;color:#5b6170;font-size:.85rem}
.row{display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap;margin-top:1rem}
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)}</title>
<style>${CSS}</style></head><body><main>
<p class="brand">cashloop</p>
${body}
</main></body></html>`;
}

export interface SignInPage {
  /** Where to go after signing in (a path of this server). */
  next: string;
  error?: string;
  info?: string;
  /** The field the error is about (`name`, `password` or `key`). */
  field?: string;
  /** The name typed, shown again after a refusal. */
  name?: string;
}

/** The sign-in forms: a user's name and password, or an API key, posted to /sign-in; customers are pointed to their link. */
export function signInPage(p: SignInPage): string {
  const invalid = (field: string) => (p.error && p.field === field ? ' aria-invalid="true" aria-describedby="sign-in-error"' : '');
  const keyForm = p.field === 'key';
  return layout(
    'Sign in — cashloop',
    `<h1>Sign in</h1>
<p class="muted">The workspace, reports and API docs open with your name and password, or with an API key.</p>
${p.error ? `<div class="alert error" role="alert" id="sign-in-error">${esc(p.error)}</div>` : ''}${p.info ? `<div class="alert info" role="status">${esc(p.info)}</div>` : ''}
<form method="post" action="/sign-in">
<input type="hidden" name="next" value="${esc(p.next)}">
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="username" required${keyForm ? '' : ' autofocus'} spellcheck="false" maxlength="100" value="${esc(p.name ?? '')}"${invalid('name')}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="200"${invalid('password')}>
<button type="submit">Sign in</button>
</form>
<h2>Or with an API key</h2>
<form method="post" action="/sign-in">
<input type="hidden" name="next" value="${esc(p.next)}">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" required${keyForm ? ' autofocus' : ''} spellcheck="false" placeholder="clk_…"${invalid('key')}>
<button type="submit">Sign in with the key</button>
</form>
<p class="muted gap">No account yet? An administrator creates one with <code>cashloop user create --name you --role viewer --password-stdin</code>, or a key with <code>cashloop apikey create --role viewer --name you</code>.</p>
<p class="muted">Customers: open the portal link you were sent; it signs you in by itself.</p>`,
  );
}

export interface HomePage {
  /** The user's name, or the API key's. */
  keyName: string;
  /** Signed in as a user (with a password) rather than with a key. */
  user: boolean;
  role: string;
  expiresAt: string;
  csrfToken: string;
  reports: boolean;
}

/** Where a signed-in browser lands: the reports, the API docs, and signing out. */
export function homePage(p: HomePage): string {
  return layout(
    'cashloop',
    `<h1>Welcome</h1>
<p class="muted">Signed in ${p.user ? 'as' : 'with the key'} <strong>${esc(p.keyName)}</strong> (${esc(p.role)}) until ${esc(p.expiresAt.slice(0, 16).replace('T', ' '))} UTC.</p>
<ul class="links">
<li><a href="/app">Workspace<span>Orders, credit holds, shipping, cash, collections, sales, customers</span></a></li>
${p.reports ? '<li><a href="/reports/">Reports<span>Receivables, collections, customers, cash and sales forecasts</span></a></li>' : '<li><a href="/reports/">Reports<span>Not built yet: run <code>cashloop pipeline run</code></span></a></li>'}
<li><a href="/docs/">API docs<span>Every route, its fields and permissions (OpenAPI)</span></a></li>
</ul>
<form method="post" action="/sign-out" class="row"><input type="hidden" name="_csrf" value="${esc(p.csrfToken)}"><span class="muted">Not you?</span><button type="submit" class="link">Sign out</button></form>`,
  );
}

/** What a customer sees when the portal link is missing, expired or withdrawn. */
export function portalClosedPage(reason: string): string {
  return layout(
    'Portal link — cashloop',
    `<h1>This link does not open the portal</h1>
<div class="alert error" role="alert">${esc(reason)}</div>
<p class="muted">Portal links work for a limited time. Please ask your contact for a new link.</p>`,
  );
}
