// The managed login's HTML: plain server-rendered forms that work without script (but the passkey
// step), labelled for screen readers, in the pool's or client's look (SetUICustomization).

export const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface Look { css?: string | null; image?: string | null }

export interface Field {
  name: string; label: string; type?: string; autocomplete?: string; value?: string; required?: boolean;
  inputmode?: string; hint?: string; autofocus?: boolean;
}

export interface FormSpec {
  action: string;
  csrf: string;
  hidden?: Record<string, string | undefined>;
  fields: Field[];
  submit: string;
}

const BASE_CSS = `
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#16191f;margin:0}
main{max-width:24rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.9rem 0 .3rem;font-weight:600}
input[type=text],input[type=password],input[type=email],input[type=tel]{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #687078;border-radius:.25rem;font-size:1rem}
input:focus,button:focus,a:focus{outline:3px solid #0972d3;outline-offset:2px}
button{margin-top:1.2rem;width:100%;padding:.65rem;border:0;border-radius:.25rem;background:#0972d3;color:#fff;font-size:1rem;cursor:pointer}
.error{background:#fff0f0;border-left:4px solid #d91515;padding:.6rem;margin:.8rem 0}
.info{background:#f0f8ff;border-left:4px solid #0972d3;padding:.6rem;margin:.8rem 0}
.hint{color:#5f6b7a;font-size:.9rem}nav{margin-top:1.2rem}nav a{display:block;margin:.4rem 0;color:#0972d3}
.logo{display:block;max-width:100%;max-height:5rem;margin:0 auto 1rem}
fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}`;

/** A whole page. Custom CSS is the admin's, set through a signed call; `</` is still kept out of the style element. */
export function page(title: string, body: string, look: Look = {}, scriptNonce?: string, script?: string): string {
  const custom = look.css ? `<style>${look.css.replace(/<\//g, '<\\/')}</style>` : '';
  const logo = look.image ? `<img class="logo banner-customizable" src="data:image/png;base64,${esc(look.image)}" alt="">` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>${esc(title)}</title><style>${BASE_CSS}</style>${custom}</head>`
    + `<body><main class="modal-content background-customizable">${logo}<h1>${esc(title)}</h1>${body}</main>`
    + (script && scriptNonce ? `<script nonce="${esc(scriptNonce)}">${script}</script>` : '')
    + `</body></html>`;
}

export function notice(message: string | undefined, kind: 'error' | 'info' = 'error') {
  if (!message) return '';
  return `<div class="${kind}" role="${kind === 'error' ? 'alert' : 'status'}" id="${kind}-message">${esc(message)}</div>`;
}

export function form(spec: FormSpec, error?: string): string {
  const hidden = Object.entries({ _csrf: spec.csrf, ...spec.hidden })
    .filter(([, v]) => v !== undefined).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
  let focused = false;
  const fields = spec.fields.map((f) => {
    const id = `f-${f.name.replace(/[^\w-]/g, '_')}`;
    const hint = f.hint ? `<p class="hint" id="${id}-hint">${esc(f.hint)}</p>` : '';
    const described = [f.hint ? `${id}-hint` : '', error ? 'error-message' : ''].filter(Boolean).join(' ');
    const focus = !focused && (f.autofocus ?? true) ? ((focused = true), ' autofocus') : '';
    return `<label for="${id}">${esc(f.label)}</label>${hint}<input id="${id}" name="${esc(f.name)}" type="${f.type ?? 'text'}"`
      + `${f.autocomplete ? ` autocomplete="${f.autocomplete}"` : ''}${f.inputmode ? ` inputmode="${f.inputmode}"` : ''}`
      + `${f.value !== undefined ? ` value="${esc(f.value)}"` : ''}${f.required === false ? '' : ' required'}`
      + `${described ? ` aria-describedby="${described}"` : ''}${error ? ' aria-invalid="true"' : ''}${focus}>`;
  }).join('');
  return `${notice(error)}<form method="post" action="${esc(spec.action)}" novalidate>${hidden}${fields}`
    + `<button type="submit" class="submitButton-customizable">${esc(spec.submit)}</button></form>`;
}

export function links(items: [string, string][]): string {
  return items.length ? `<nav aria-label="Other options">${items.map(([href, text]) => `<a href="${esc(href)}">${esc(text)}</a>`).join('')}</nav>` : '';
}

/** An error the app cannot be told about (no trusted redirect URI): shown, never redirected. */
export function errorPage(message: string, look?: Look) {
  return page('Something went wrong', notice(message), look);
}
