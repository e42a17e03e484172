// A few helpers for building the DOM without HTML strings (the CSP allows no other way: Trusted Types
// are required and no policy exists, so innerHTML of a string throws).

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (e: Event) => unknown;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

/** h('button', { type: 'button', onclick: f, 'aria-label': 'Close' }, 'x') */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as Handler);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else if (k === 'checked' && el instanceof HTMLInputElement) el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear<E extends Element>(el: E, ...children: Child[]): E {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export const uid = (prefix = 'id') => `${prefix}-${++ids}`;

/** Announces a message to screen readers (and shows nothing else). */
export function announce(message: string) {
  const status = document.getElementById('status')!;
  status.textContent = '';
  // A change a moment later is read even when the same text is announced twice.
  setTimeout(() => { status.textContent = message; }, 50);
}

export function time(epochSeconds: number | undefined) {
  if (epochSeconds === undefined) return '';
  const d = new Date(epochSeconds * 1000);
  return h('time', { datetime: d.toISOString() }, d.toLocaleString());
}

/** A table with a caption, column headers and rows (cells are children). */
export function table(caption: string, headers: string[], rows: Child[][], opts: { captionHidden?: boolean } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', null,
      h('caption', opts.captionHidden ? { class: 'visually-hidden' } : null, caption),
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows.length ? rows.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', null, c)))))
        : h('tr', null, h('td', { colspan: headers.length }, 'None.')))));
}

/** A definition list of label/value pairs. */
export function facts(pairs: [string, Child][]) {
  return h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v === '' || v === undefined ? '—' : v)]));
}

export function link(href: string, ...children: Child[]) {
  return h('a', { href }, ...children);
}
