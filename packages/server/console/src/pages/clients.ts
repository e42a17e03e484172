// App clients: list, create (a generated secret is shown once, here, and never again by the console),
// edit (UpdateUserPoolClient with every setting: Cognito resets what it leaves out), delete.
import { call } from '../api.js';
import { clear, facts, h, link, table, time } from '../dom.js';
import { checkbox, checked, checkedValues, choices, form, input, linesOf, numberOf, select, textarea, valueOf } from '../forms.js';
import { act, breadcrumbs, confirmDialog, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';

const FLOWS: [string, string][] = [
  ['ALLOW_USER_SRP_AUTH', 'Password with SRP (USER_SRP_AUTH)'], ['ALLOW_USER_AUTH', 'Choice-based sign-in (USER_AUTH)'],
  ['ALLOW_USER_PASSWORD_AUTH', 'Plain password (USER_PASSWORD_AUTH)'], ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'Server-side password (ADMIN_USER_PASSWORD_AUTH)'],
  ['ALLOW_CUSTOM_AUTH', 'Custom challenges (CUSTOM_AUTH)'], ['ALLOW_REFRESH_TOKEN_AUTH', 'Refresh tokens'],
];
const UNITS: [string, string][] = [['seconds', 'seconds'], ['minutes', 'minutes'], ['hours', 'hours'], ['days', 'days']];

const clientHref = (poolId: string, clientId: string) => poolHref(poolId, `/clients/${encodeURIComponent(clientId)}`);

function clientFields(c: any = {}) {
  const units = c.TokenValidityUnits ?? {};
  const lifetime = (label: string, key: string, unitKey: string, value: number, unit: string) => h('div', { class: 'inline' },
    input({ label: `${label} lifetime`, path: key, type: 'number', value }),
    select({ label: `${label} lifetime unit`, path: `tokenValidityUnits.${unitKey}`, value: unit, options: UNITS }));
  return [
    input({ label: 'Name', path: 'clientName', value: c.ClientName ?? '', required: true }),
    choices({ label: 'Sign-in flows', path: 'explicitAuthFlows', name: 'flows', options: FLOWS,
      selected: c.ExplicitAuthFlows ?? ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }),
    h('fieldset', null, h('legend', null, 'Token lifetimes'),
      lifetime('Access token', 'accessTokenValidity', 'accessToken', c.AccessTokenValidity ?? 60, units.AccessToken ?? 'minutes'),
      lifetime('ID token', 'idTokenValidity', 'idToken', c.IdTokenValidity ?? 60, units.IdToken ?? 'minutes'),
      lifetime('Refresh token', 'refreshTokenValidity', 'refreshToken', c.RefreshTokenValidity ?? 30, units.RefreshToken ?? 'days')),
    textarea({ label: 'Callback URLs', path: 'callbackURLs', value: (c.CallbackURLs ?? []).join('\n'), hint: 'One per line: where hosted sign-in may send users back.' }),
    textarea({ label: 'Sign-out URLs', path: 'logoutURLs', value: (c.LogoutURLs ?? []).join('\n'), hint: 'One per line.' }),
    choices({ label: 'OAuth flows (hosted sign-in)', path: 'allowedOAuthFlows', name: 'oauthFlows', selected: c.AllowedOAuthFlows ?? [],
      options: [['code', 'Authorization code'], ['implicit', 'Implicit'], ['client_credentials', 'Client credentials']] }),
    input({ label: 'OAuth scopes', path: 'allowedOAuthScopes', value: (c.AllowedOAuthScopes ?? []).join(' '), hint: 'Separated by spaces, e.g. openid email profile.' }),
    checkbox({ label: 'Hide which users exist (PreventUserExistenceErrors)', path: 'preventUserExistenceErrors', checked: (c.PreventUserExistenceErrors ?? 'ENABLED') === 'ENABLED' }),
    checkbox({ label: 'Refresh tokens can be revoked (EnableTokenRevocation)', path: 'enableTokenRevocation', checked: c.EnableTokenRevocation ?? true }),
  ];
}

const orNone = <T>(list: T[]) => (list.length ? list : undefined);

function clientInput(f: HTMLFormElement) {
  const oauth = checkedValues(f, 'oauthFlows');
  const scopes = valueOf(f, 'allowedOAuthScopes').split(/\s+/).filter(Boolean);
  return {
    ClientName: valueOf(f, 'clientName'),
    ExplicitAuthFlows: checkedValues(f, 'flows'),
    AccessTokenValidity: numberOf(f, 'accessTokenValidity'), IdTokenValidity: numberOf(f, 'idTokenValidity'), RefreshTokenValidity: numberOf(f, 'refreshTokenValidity'),
    TokenValidityUnits: { AccessToken: valueOf(f, 'tokenValidityUnits.accessToken'), IdToken: valueOf(f, 'tokenValidityUnits.idToken'), RefreshToken: valueOf(f, 'tokenValidityUnits.refreshToken') },
    CallbackURLs: orNone(linesOf(f, 'callbackURLs')), LogoutURLs: orNone(linesOf(f, 'logoutURLs')),
    AllowedOAuthFlows: oauth.length ? oauth : undefined,
    AllowedOAuthFlowsUserPoolClient: oauth.length > 0,
    AllowedOAuthScopes: scopes.length ? scopes : undefined,
    SupportedIdentityProviders: oauth.length ? ['COGNITO'] : undefined,
    PreventUserExistenceErrors: checked(f, 'preventUserExistenceErrors') ? 'ENABLED' : 'LEGACY',
    EnableTokenRevocation: checked(f, 'enableTokenRevocation'),
  };
}

export const clientsPage: Page = async (main, [poolId]) => {
  const [{ UserPool: pool }, clients] = await Promise.all([
    call('DescribeUserPool', { UserPoolId: poolId }),
    (async () => {
      const out: any[] = [];
      let token: string | undefined;
      do { const r = await call('ListUserPoolClients', { UserPoolId: poolId, MaxResults: 60, NextToken: token }); out.push(...r.UserPoolClients); token = r.NextToken; } while (token);
      return out;
    })(),
  ]);
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['App clients', undefined]),
    heading(`App clients of ${pool.Name}`, h('a', { href: poolHref(poolId, '/clients/new'), class: 'button' }, 'Create app client')),
    poolNav(poolId, 'clients'),
    table('App clients', ['Name', 'Client id'], clients.map((c) => [link(clientHref(poolId, c.ClientId), c.ClientName), h('code', null, c.ClientId)]), { captionHidden: true }));
};

export const newClientPage: Page = async (main, [poolId]) => {
  const { UserPool: pool } = await call('DescribeUserPool', { UserPoolId: poolId });
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['App clients', poolHref(poolId, '/clients')], ['New', undefined]),
    heading('Create an app client'),
    poolNav(poolId, 'clients'),
    form({
      label: 'Create an app client', submit: 'Create app client',
      fields: [...clientFields(), checkbox({ label: 'Generate a client secret (for server-side apps)', path: 'generateSecret' })],
      onsubmit: async (f) => {
        const r = await call('CreateUserPoolClient', { UserPoolId: poolId, ...clientInput(f), GenerateSecret: checked(f, 'generateSecret') });
        const c = r.UserPoolClient;
        if (!c.ClientSecret) return go(clientHref(poolId, c.ClientId));
        // The secret, once: the console shows it here and nowhere else.
        clear(main,
          heading(`App client ${c.ClientName} created`),
          notice('Copy the client secret now: the console will not show it again.', 'info'),
          facts([['Client id', h('code', null, c.ClientId)], ['Client secret', h('code', { class: 'secret', id: 'client-secret' }, c.ClientSecret)]]),
          h('p', null, link(clientHref(poolId, c.ClientId), 'I have copied it: go to the app client')));
        main.querySelector<HTMLElement>('h1')?.focus();
      },
    }));
};

export const clientPage: Page = async (main, [poolId, clientId]) => {
  const [{ UserPool: pool }, { UserPoolClient: c }] = await Promise.all([
    call('DescribeUserPool', { UserPoolId: poolId }), call('DescribeUserPoolClient', { UserPoolId: poolId, ClientId: clientId }),
  ]);
  const result = h('div');
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete app client');
  del.addEventListener('click', async () => {
    if (!(await confirmDialog({ title: `Delete ${c.ClientName}?`, confirm: 'Delete app client', danger: true, body: h('p', null, 'Apps using it can no longer sign in, and its sign-ins end now.') }))) return;
    if (await act(del, result, `App client ${c.ClientName} deleted.`, () => call('DeleteUserPoolClient', { UserPoolId: poolId, ClientId: clientId }))) go(poolHref(poolId, '/clients'));
  });
  const saved = new URLSearchParams(location.hash.split('?')[1] ?? '').get('saved');
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['App clients', poolHref(poolId, '/clients')], [c.ClientName, undefined]),
    heading(`App client ${c.ClientName}`),
    poolNav(poolId, 'clients'),
    saved ? notice('App client saved.', 'success') : null,
    facts([['Client id', h('code', null, c.ClientId)], ['Client secret', c.ClientSecret ? 'Set (shown once, when the client was created)' : 'None'],
      ['Created', time(c.CreationDate)], ['Last changed', time(c.LastModifiedDate)]]),
    section('Settings', form({
      label: 'App client settings', submit: 'Save app client', fields: clientFields(c),
      onsubmit: async (f) => {
        await call('UpdateUserPoolClient', { UserPoolId: poolId, ClientId: clientId, ...clientInput(f), ReadAttributes: c.ReadAttributes, WriteAttributes: c.WriteAttributes,
          AuthSessionValidity: c.AuthSessionValidity, DefaultRedirectURI: c.DefaultRedirectURI, RefreshTokenRotation: c.RefreshTokenRotation,
          EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData, AnalyticsConfiguration: c.AnalyticsConfiguration });
        go(clientHref(poolId, clientId) + '?saved=1');
      },
    })),
    section('Delete', del, result));
};
