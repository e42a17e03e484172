// The console's shell: a hash router (#/pools/<id>/users, ...), the signed-in frame, focus and
// titles on navigation, timers stopped when a page is left.
import { SignedOut, whenSignedOut } from './api.js';
import { clear, h } from './dom.js';
import { accessToken, loadSession, operatorName, session, watchIdle } from './session.js';
import { errorText, notice } from './ui.js';
import { signInPage } from './pages/signin.js';
import { poolsPage, newPoolPage, poolSettingsPage } from './pages/pools.js';
import { clientsPage, newClientPage, clientPage } from './pages/clients.js';
import { usersPage, newUserPage, userPage } from './pages/users.js';
import { groupsPage, groupPage } from './pages/groups.js';
import { importsPage, importJobPage } from './pages/imports.js';
import { activityPage } from './pages/activity.js';
import { auditPage } from './pages/audit.js';
import { accountPage } from './pages/account.js';

export interface Life { onLeave(f: () => void): void; alive(): boolean }
export type Page = (main: HTMLElement, params: string[], query: URLSearchParams, life: Life) => Promise<void>;

const routes: [RegExp, Page, string][] = [
  [/^\/pools$/, poolsPage, 'pools'],
  [/^\/pools\/new$/, newPoolPage, 'pools'],
  [/^\/pools\/([^/]+)$/, poolSettingsPage, 'pools'],
  [/^\/pools\/([^/]+)\/clients$/, clientsPage, 'pools'],
  [/^\/pools\/([^/]+)\/clients\/new$/, newClientPage, 'pools'],
  [/^\/pools\/([^/]+)\/clients\/([^/]+)$/, clientPage, 'pools'],
  [/^\/pools\/([^/]+)\/users$/, usersPage, 'pools'],
  [/^\/pools\/([^/]+)\/users\/new$/, newUserPage, 'pools'],
  [/^\/pools\/([^/]+)\/users\/([^/]+)$/, userPage, 'pools'],
  [/^\/pools\/([^/]+)\/groups$/, groupsPage, 'pools'],
  [/^\/pools\/([^/]+)\/groups\/([^/]+)$/, groupPage, 'pools'],
  [/^\/pools\/([^/]+)\/imports$/, importsPage, 'pools'],
  [/^\/pools\/([^/]+)\/imports\/([^/]+)$/, importJobPage, 'pools'],
  [/^\/pools\/([^/]+)\/activity$/, activityPage, 'pools'],
  [/^\/audit$/, auditPage, 'audit'],
  [/^\/account$/, accountPage, 'account'],
];

const main = () => document.getElementById('main')!;
let leaving: (() => void)[] = [];
let generation = 0;

export function go(hash: string) {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function frame(signedIn: boolean, section?: string) {
  document.getElementById('nav')!.hidden = !signedIn;
  document.getElementById('who')!.hidden = !signedIn;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  const raw = location.hash.slice(1);
  if (raw && !raw.startsWith('/')) return; // an in-page anchor, not a route
  for (const f of leaving) f();
  leaving = [];
  const mine = ++generation;
  const life: Life = { onLeave: (f) => leaving.push(f), alive: () => mine === generation };
  const [path, qs = ''] = (raw || '/pools').split('?');
  const query = new URLSearchParams(qs);
  const el = main();
  el.setAttribute('aria-busy', 'true');
  try {
    if (path === '/signin') {
      frame(false);
      await signInPage(clear(el), [], query, life);
      return;
    }
    if (!(await accessToken().catch(() => undefined))) {
      go(`#/signin?next=${encodeURIComponent('#' + raw)}`);
      return;
    }
    const match = routes.map(([re, page, section]) => [re.exec(path), page, section] as const).find(([m]) => m);
    document.getElementById('who-name')!.textContent = (await operatorName()) ?? '';
    if (!match) {
      frame(true);
      clear(el, h('h1', { tabindex: -1 }, 'Not found'), h('p', null, 'There is no such page. ', h('a', { href: '#/pools' }, 'User pools')));
    } else {
      const [m, page, section] = match;
      frame(true, section);
      const container = h('div');
      clear(el, h('p', null, 'Loading…'));
      await page(container, m!.slice(1).map(decodeURIComponent), query, life);
      if (!life.alive()) return;
      clear(el, container);
    }
    // Focus the page's heading: a screen reader announces where the operator now is.
    el.querySelector<HTMLElement>('h1')?.focus();
  } catch (e) {
    if (e instanceof SignedOut || !life.alive()) return;
    clear(el, h('h1', { tabindex: -1 }, 'Something went wrong'), notice(errorText(e), 'error'));
    el.querySelector<HTMLElement>('h1')?.focus();
  } finally {
    if (life.alive()) el.removeAttribute('aria-busy');
  }
}

async function signOut(message?: string) {
  await session().signOut().catch(() => {});
  go(`#/signin${message ? `?m=${encodeURIComponent(message)}` : ''}`);
}

async function start() {
  try {
    await loadSession();
  } catch (e) {
    clear(main(), h('h1', null, 'The console cannot start'), notice(errorText(e), 'error'));
    return;
  }
  whenSignedOut(() => {
    if (!location.hash.startsWith('#/signin')) go(`#/signin?m=${encodeURIComponent('Your session ended; sign in again.')}&next=${encodeURIComponent(location.hash)}`);
  });
  watchIdle(() => { if (!location.hash.startsWith('#/signin')) void signOut('You were signed out after 30 minutes without activity.'); });
  document.getElementById('sign-out')!.addEventListener('click', () => void signOut('You signed out.'));
  document.querySelector('.skip')!.addEventListener('click', (e) => { e.preventDefault(); main().focus(); });
  addEventListener('hashchange', () => void route());
  await route();
}

void start();
