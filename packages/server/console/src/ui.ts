// Page furniture: headings that take the focus, the pool's section links, confirmations, notices.
import { SignedOut, ApiError } from './api.js';
import { announce, h, uid, type Child } from './dom.js';

/** The page's h1 (focused after each navigation, so screen readers start there) and document title. */
export function heading(text: string, ...after: Child[]) {
  document.title = `${text} · Gatehouse console`;
  return h('div', { class: 'page-head' }, h('h1', { tabindex: -1 }, text), after);
}

const POOL_SECTIONS: [string, string][] = [
  ['', 'Settings'], ['clients', 'App clients'], ['users', 'Users'], ['groups', 'Groups'], ['imports', 'Import jobs'], ['activity', 'Activity'],
];

/** Links to a pool's sections; the current one is marked for assistive technology. */
export function poolNav(poolId: string, current: string) {
  const base = `#/pools/${encodeURIComponent(poolId)}`;
  return h('nav', { 'aria-label': 'User pool', class: 'subnav' },
    h('ul', null, POOL_SECTIONS.map(([s, label]) => h('li', null,
      h('a', { href: s ? `${base}/${s}` : base, 'aria-current': s === current ? 'page' : null }, label)))));
}

export function breadcrumbs(...items: [string, string | undefined][]) {
  return h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' },
    h('ol', null, items.map(([label, href]) => h('li', null, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label)))));
}

/** A notice in the page: errors as alerts (read at once), others as status. */
export function notice(message: Child, kind: 'error' | 'info' | 'success' = 'info') {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
}

export function errorText(e: unknown) {
  if (e instanceof ApiError) return `${e.message} (${e.type})`;
  return e instanceof Error ? e.message : String(e);
}

/** Runs an action from a button: busy while it runs, its outcome announced, a refusal shown in `where`. */
export async function act(button: HTMLButtonElement, where: HTMLElement, done: string, run: () => Promise<unknown>) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await run();
    where.replaceChildren(notice(done, 'success'));
    announce(done);
    return true;
  } catch (e) {
    if (!(e instanceof SignedOut)) where.replaceChildren(notice(errorText(e), 'error'));
    return false;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * A modal confirmation (native <dialog>: focus moves in and stays, Escape cancels). With `typed`,
 * the operator must type that text first (deleting a pool).
 */
export function confirmDialog(o: { title: string; body: Child; confirm: string; danger?: boolean; typed?: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const typedId = uid('typed');
    const typedInput = o.typed !== undefined ? h('input', { id: typedId, type: 'text', autocomplete: 'off', spellcheck: 'false' }) : null;
    const ok = h('button', { type: 'submit', class: o.danger ? 'danger' : '', value: 'ok', disabled: o.typed !== undefined }, o.confirm);
    const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const dlg = h('dialog', { 'aria-labelledby': titleId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, o.title),
        h('div', null, o.body),
        typedInput ? h('p', { class: 'field' }, h('label', { for: typedId }, `Type ${o.typed} to confirm`), typedInput) : null,
        h('div', { class: 'actions' }, ok, cancel)));
    typedInput?.addEventListener('input', () => { ok.disabled = typedInput.value !== o.typed; });
    cancel.addEventListener('click', () => dlg.close('cancel'));
    const opener = document.activeElement as HTMLElement | null;
    dlg.addEventListener('close', () => {
      dlg.remove();
      opener?.focus();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.append(dlg);
    dlg.showModal();
    (typedInput ?? cancel).focus();
  });
}

/** Collapsible section. */
export function section(title: string, ...children: Child[]) {
  const id = uid('sec');
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), children);
}
