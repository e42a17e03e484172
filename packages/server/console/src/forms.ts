// Form fields with labels, hints and an error slot each, and the mapping of the server's answers
// onto them: Cognito's validation message names the member ("at 'policies.passwordPolicy.minimumLength'"),
// so each part of it is shown next to the field whose data-path is that member (or its nearest parent).
import { ApiError, SignedOut } from './api.js';
import { announce, h, uid, type Child } from './dom.js';

interface Common { label: string; path: string; hint?: Child; required?: boolean }
export interface InputOpts extends Common { type?: string; value?: string | number; autocomplete?: string; min?: number; max?: number; placeholder?: string; name?: string; inputmode?: string }

function described(control: HTMLElement, hintId: string | undefined, errorId: string) {
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
}

function wrap(o: Common, control: HTMLElement, id: string) {
  const hintId = o.hint ? uid('hint') : undefined;
  const errorId = uid('err');
  described(control, hintId, errorId);
  return h('div', { class: 'field', 'data-path': o.path },
    // The required attribute tells assistive technology; the mark is for the eye, outside the label.
    h('div', { class: 'label-row' }, h('label', { for: id }, o.label), o.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '(required)') : null),
    o.hint ? h('p', { class: 'hint', id: hintId! }, o.hint) : null,
    control,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
}

export function input(o: InputOpts) {
  const id = uid('f');
  const el = h('input', {
    id, name: o.name ?? o.path, type: o.type ?? 'text', value: o.value ?? '', autocomplete: o.autocomplete ?? 'off', required: o.required,
    min: o.min, max: o.max, placeholder: o.placeholder, inputmode: o.inputmode, spellcheck: 'false',
  });
  return wrap(o, el, id);
}

export function textarea(o: Common & { value?: string; rows?: number }) {
  const id = uid('f');
  const el = h('textarea', { id, name: o.path, rows: o.rows ?? 3, required: o.required, spellcheck: 'false' });
  el.value = o.value ?? '';
  return wrap(o, el, id);
}

export function select(o: Common & { options: [string, string][]; value?: string }) {
  const id = uid('f');
  const el = h('select', { id, name: o.path }, o.options.map(([v, label]) => h('option', { value: v, selected: v === o.value }, label)));
  return wrap(o, el, id);
}

/** A single checkbox, its label after it. */
export function checkbox(o: Common & { checked?: boolean; name?: string }) {
  const id = uid('f');
  const hintId = o.hint ? uid('hint') : undefined;
  const errorId = uid('err');
  const el = h('input', { id, type: 'checkbox', name: o.name ?? o.path, checked: o.checked });
  described(el, hintId, errorId);
  return h('div', { class: 'field check', 'data-path': o.path },
    el, h('label', { for: id }, o.label),
    o.hint ? h('p', { class: 'hint', id: hintId! }, o.hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
}

/** Checkboxes (several values) or radios (one) under a legend. */
export function choices(o: Common & { name: string; options: [string, string][]; selected: string[]; kind?: 'checkbox' | 'radio' }) {
  const errorId = uid('err');
  const hintId = o.hint ? uid('hint') : undefined;
  const fs = h('fieldset', { class: 'field', 'data-path': o.path },
    h('legend', null, o.label),
    o.hint ? h('p', { class: 'hint', id: hintId! }, o.hint) : null,
    h('div', { class: 'choices' }, o.options.map(([v, label]) => {
      const id = uid('f');
      return h('span', { class: 'choice' },
        h('input', { id, type: o.kind ?? 'checkbox', name: o.name, value: v, checked: o.selected.includes(v) }),
        h('label', { for: id }, label));
    })),
    h('p', { class: 'field-error', id: errorId, hidden: true }));
  described(fs, hintId, errorId);
  return fs;
}

// ---- reading values

export function valueOf(form: HTMLFormElement, name: string): string {
  const el = form.elements.namedItem(name);
  if (el instanceof RadioNodeList) return el.value;
  return el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement ? el.value : '';
}
export function checked(form: HTMLFormElement, name: string): boolean {
  const el = form.elements.namedItem(name);
  return el instanceof HTMLInputElement && el.checked;
}
export function checkedValues(form: HTMLFormElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${CSS.escape(name)}"]:checked`)].map((i) => i.value);
}
/** A number field: undefined when empty, NaN-free (a non-number is sent as the text, for the server to refuse). */
export function numberOf(form: HTMLFormElement, name: string): number | undefined {
  const v = valueOf(form, name).trim();
  if (v === '') return undefined;
  return Number(v);
}
/** One entry per line, blank lines dropped. */
export function linesOf(form: HTMLFormElement, name: string): string[] {
  return valueOf(form, name).split('\n').map((s) => s.trim()).filter(Boolean);
}

// ---- errors

export function clearErrors(form: HTMLFormElement) {
  for (const p of form.querySelectorAll<HTMLElement>('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const alert = form.querySelector<HTMLElement>('.form-alert');
  if (alert) { alert.hidden = true; alert.textContent = ''; }
}

/** The field a member path belongs to: its own, or its nearest parent's (`userAttributes.1.member.value` -> `userAttributes`). */
function fieldFor(form: HTMLFormElement, path: string): HTMLElement | undefined {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const f = form.querySelector<HTMLElement>(`[data-path="${CSS.escape(parts.slice(0, n).join('.'))}"]`);
    if (f) return f;
  }
  return undefined;
}

function markField(field: HTMLElement, message: string) {
  const p = field.querySelector<HTMLElement>(':scope > .field-error');
  if (p) {
    p.textContent = p.textContent ? `${p.textContent} ${message}` : message;
    p.hidden = false;
  }
  const control = field.matches('fieldset') ? field : field.querySelector('input, select, textarea');
  control?.setAttribute('aria-invalid', 'true');
}

/**
 * Shows a refusal: each part of a validation message next to its field, a known error (`byType`
 * names the field for an exception type) next to that field, anything else at the top of the form.
 * The first field in error, or the form's alert, takes the focus.
 */
export function showError(form: HTMLFormElement, err: unknown, byType: Record<string, string> = {}) {
  clearErrors(form);
  const alert = form.querySelector<HTMLElement>('.form-alert')!;
  const toAlert = (m: string) => { alert.textContent = alert.textContent ? `${alert.textContent} ${m}` : m; alert.hidden = false; };
  const marked: HTMLElement[] = [];
  if (err instanceof ApiError) {
    const head = /^\d+ validation errors? detected: /.exec(err.message);
    if (err.type === 'InvalidParameterException' && head) {
      for (const part of err.message.slice(head[0].length).split(/; (?=Value )/)) {
        const at = /at '([^']+)' failed to satisfy constraint/.exec(part);
        const field = at ? fieldFor(form, at[1]) : undefined;
        if (field) { markField(field, `${head[0].replace(/: $/, '')}: ${part}`); marked.push(field); } else toAlert(part);
      }
    } else if (byType[err.type] && form.querySelector(`[data-path="${CSS.escape(byType[err.type])}"]`)) {
      const field = form.querySelector<HTMLElement>(`[data-path="${CSS.escape(byType[err.type])}"]`)!;
      markField(field, err.message);
      marked.push(field);
    } else {
      toAlert(`${err.message} (${err.type})`);
    }
  } else if (!(err instanceof SignedOut)) {
    toAlert(err instanceof Error ? err.message : String(err));
  }
  const first = marked.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))[0];
  const target = first ? (first.querySelector<HTMLElement>('input, select, textarea') ?? first) : alert;
  if (!alert.hidden || first) target.focus();
  announce(first ? 'The form has errors; they are shown next to the fields.' : 'The request was refused.');
}

/** A form with an alert slot, the fields, and a submit button; `onsubmit` runs with the button busy, its refusal shown on the form. */
export function form(opts: { label: string; fields: Child[]; submit: string; onsubmit: (f: HTMLFormElement) => Promise<unknown>; byType?: Record<string, string>; extra?: Child }) {
  const alertEl = h('p', { class: 'form-alert', role: 'alert', hidden: true, tabindex: -1 });
  const button = h('button', { type: 'submit' }, opts.submit);
  const f = h('form', { 'aria-label': opts.label, novalidate: true }, alertEl, opts.fields, h('div', { class: 'actions' }, button, opts.extra));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    f.setAttribute('aria-busy', 'true');
    clearErrors(f);
    try {
      await opts.onsubmit(f);
    } catch (err) {
      showError(f, err, opts.byType);
    } finally {
      button.disabled = false;
      f.removeAttribute('aria-busy');
    }
  });
  return f;
}
