// A pool's sign-in activity: charts (uPlot) of sign-ins succeeded, failed and challenged, lockouts,
// sign-ups and codes sent, over the last hour, day or week, refreshed while the page is open. Each
// chart has a text summary and the same figures as a table, for those who cannot see it.
import uPlot from 'uplot';
import { call, view } from '../api.js';
import { clear, h, table } from '../dom.js';
import { choices } from '../forms.js';
import { breadcrumbs, errorText, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';

type Series = 'signInSucceeded' | 'signInFailed' | 'signInChallenged' | 'lockouts' | 'signUps' | 'codeSends';
interface Activity { range: string; bucketMs: number; starts: number[]; series: Record<Series, number[]>; totals: Record<Series, number> }

const NAMES: Record<Series, string> = {
  signInSucceeded: 'Sign-ins succeeded', signInFailed: 'Sign-ins failed', signInChallenged: 'Sign-ins challenged (MFA, new password…)',
  lockouts: 'Lockouts', signUps: 'Sign-ups', codeSends: 'Codes sent',
};
// Distinct in hue and lightness, and marked by dash patterns too, so they differ without colour.
const STYLE: Record<Series, { stroke: string; dash?: number[] }> = {
  signInSucceeded: { stroke: '#1a7f37' }, signInFailed: { stroke: '#cf222e', dash: [6, 3] }, signInChallenged: { stroke: '#8250df', dash: [2, 3] },
  lockouts: { stroke: '#bc4c00' }, signUps: { stroke: '#0969da', dash: [6, 3] }, codeSends: { stroke: '#57606a', dash: [2, 3] },
};
const CHARTS: { id: string; title: string; series: Series[] }[] = [
  { id: 'sign-ins', title: 'Sign-ins', series: ['signInSucceeded', 'signInFailed', 'signInChallenged'] },
  { id: 'other', title: 'Lockouts, sign-ups and codes sent', series: ['lockouts', 'signUps', 'codeSends'] },
];
const RANGES: [string, string][] = [['hour', 'Last hour'], ['day', 'Last day'], ['week', 'Last week']];
const REFRESH_MS: Record<string, number> = { hour: 10_000, day: 60_000, week: 60_000 };

function when(ms: number, range: string) {
  const d = new Date(ms);
  return range === 'week' ? d.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }) : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export const activityPage: Page = async (main, [poolId], query, life) => {
  const range = RANGES.some(([r]) => r === query.get('range')) ? query.get('range')! : 'hour';
  const { UserPool: pool } = await call('DescribeUserPool', { UserPoolId: poolId });
  let data = await view<Activity>('activity', { pool: poolId, range });

  const width = () => Math.max(320, Math.min(1100, (document.getElementById('main')?.clientWidth ?? 900) - 40));
  const updated = h('p', { class: 'muted', id: 'activity-updated' });
  const problem = h('div');
  const blocks = CHARTS.map((c) => {
    const summary = h('p', { id: `${c.id}-summary` });
    const canvasHolder = h('div', { class: 'chart', role: 'img', 'aria-labelledby': `${c.id}-title`, 'aria-describedby': `${c.id}-summary` });
    const tableHolder = h('div');
    const legend = h('ul', { class: 'legend', 'aria-hidden': 'true' }, c.series.map((s) => h('li', null, h('span', { class: `swatch ${s}` }), NAMES[s])));
    const el = h('section', { 'aria-labelledby': `${c.id}-title`, class: 'chart-block' },
      h('h2', { id: `${c.id}-title` }, c.title), summary, legend, canvasHolder,
      h('details', null, h('summary', null, `${c.title} as a table`), tableHolder));
    return { c, el, summary, canvasHolder, tableHolder, plot: undefined as uPlot | undefined };
  });

  const render = () => {
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshed every ${REFRESH_MS[range] / 1000} seconds while this page is open.`;
    const x = data.starts.map((t) => t / 1000);
    for (const b of blocks) {
      b.summary.textContent = `${RANGES.find(([r]) => r === range)![1]}: ` + b.c.series.map((s) => `${NAMES[s]} ${data.totals[s]}`).join(', ') + '.';
      b.summary.dataset.totals = JSON.stringify(Object.fromEntries(b.c.series.map((s) => [s, data.totals[s]])));
      const rows = data.starts.map((t, i) => [when(t, range), ...b.c.series.map((s) => String(data.series[s][i]))]).filter((r) => r.slice(1).some((v) => v !== '0'));
      b.tableHolder.replaceChildren(table(`${b.c.title} per ${data.bucketMs / 60_000} minutes (periods with none left out)`, ['Period starting', ...b.c.series.map((s) => NAMES[s])], rows));
      const aligned = [x, ...b.c.series.map((s) => data.series[s])] as uPlot.AlignedData;
      if (b.plot) b.plot.setData(aligned);
      else {
        b.plot = new uPlot({
          width: width(), height: 220,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
          axes: [{}, { label: 'count', size: 50 }],
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          series: [{}, ...b.c.series.map((s) => ({ label: NAMES[s], stroke: STYLE[s].stroke, dash: STYLE[s].dash, width: 2, points: { show: false } }))],
        }, aligned, b.canvasHolder);
      }
    }
  };

  const rangePicker = choices({ label: 'Period', path: 'range', name: 'range', kind: 'radio', options: RANGES, selected: [range] });
  rangePicker.addEventListener('change', (e) => {
    const v = (e.target as HTMLInputElement).value;
    go(poolHref(poolId, `/activity?range=${v}`));
  });

  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Activity', undefined]),
    heading(`Activity of ${pool.Name}`),
    poolNav(poolId, 'activity'),
    rangePicker, updated, problem,
    blocks.map((b) => b.el),
    section('What is counted', h('p', null,
      'From the users’ auth events: sign-ins that gave tokens, failed, or asked for another step; failed sign-ins that found or left the account locked; ',
      'sign-ups; codes sent for a resend or a password reset. Sign-in attempts for users that do not exist are not counted (they leave no auth events), ',
      'and each user keeps their newest 100 events, so a long attack on one account counts only those.')));
  // The charts need their container laid out: drawn once this page is on screen.
  requestAnimationFrame(() => { if (life.alive()) render(); });

  const timer = setInterval(async () => {
    if (document.hidden) return;
    try {
      data = await view<Activity>('activity', { pool: poolId, range });
      if (life.alive()) { problem.replaceChildren(); render(); }
    } catch (e) {
      problem.replaceChildren(notice(`The figures could not be refreshed: ${errorText(e)}`, 'error'));
    }
  }, REFRESH_MS[range]);
  const onResize = () => { for (const b of blocks) b.plot?.setSize({ width: width(), height: 220 }); };
  addEventListener('resize', onResize);
  life.onLeave(() => { clearInterval(timer); removeEventListener('resize', onResize); for (const b of blocks) b.plot?.destroy(); });
};
