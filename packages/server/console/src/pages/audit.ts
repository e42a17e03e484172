// The audit log: every operation an operator made through the console (and the CLI's invitations),
// newest first, with who, what, on which pool and target, when and how it ended.
import { view } from '../api.js';
import { clear, h, link, table } from '../dom.js';
import { checkbox, checked, form, input, valueOf } from '../forms.js';
import { heading } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';

interface Entry { id: string; at: number; operator: string; operation: string; kind: string; pool_id: string | null; target: string | null; outcome: string; ip: string | null }

export const auditPage: Page = async (main, _p, query) => {
  const pool = query.get('pool') ?? '', reads = query.get('reads') === '1', before = query.get('before') ?? undefined;
  const page = await view<{ entries: Entry[]; next?: string }>('audit', { pool, writes: reads ? undefined : '1', before, limit: '50' });
  const here = (extra: Record<string, string>) => {
    const p = new URLSearchParams({ pool, reads: reads ? '1' : '', ...extra });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return `#/audit?${p}`;
  };
  clear(main,
    heading('Audit log'),
    form({
      label: 'Filter the audit log', submit: 'Show',
      fields: [h('div', { class: 'inline' },
        input({ label: 'User pool id', path: 'pool', value: pool, hint: 'Empty: every pool.' }),
        checkbox({ label: 'Include reads (lists and lookups)', path: 'reads', checked: reads }))],
      onsubmit: async (f) => { go(here({ pool: valueOf(f, 'pool').trim(), reads: checked(f, 'reads') ? '1' : '' })); },
    }),
    table('Audit log entries, newest first', ['Time', 'Operator', 'Operation', 'User pool', 'Target', 'Outcome'], page.entries.map((e) => {
      const d = new Date(e.at);
      return [h('time', { datetime: d.toISOString() }, d.toLocaleString()), e.operator, e.operation,
        e.pool_id ? link(poolHref(e.pool_id), e.pool_id) : '', e.target ?? '', h('span', { class: e.outcome === 'ok' ? 'ok' : 'bad' }, e.outcome)];
    })),
    h('nav', { 'aria-label': 'Pages of the audit log', class: 'pager' },
      before ? link(here({}), 'Newest entries') : null,
      page.next ? link(here({ before: page.next }), 'Older entries') : null));
};
