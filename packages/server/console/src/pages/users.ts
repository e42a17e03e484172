// Users: Cognito's filter search with paging, creating (and inviting) one, and a user's page:
// attributes, status, groups, MFA, devices and auth events, with the admin actions.
import { call, ApiError } from '../api.js';
import { clear, facts, h, link, table, time } from '../dom.js';
import { checkbox, checked, choices, form, input, select, valueOf } from '../forms.js';
import { act, breadcrumbs, confirmDialog, errorText, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';

export const userHref = (poolId: string, username: string) => poolHref(poolId, `/users/${encodeURIComponent(username)}`);
const attr = (u: any, name: string) => (u.Attributes ?? u.UserAttributes ?? []).find((a: any) => a.Name === name)?.Value ?? '';

const FILTER_ATTRIBUTES: [string, string][] = [
  ['email', 'Email'], ['username', 'User name'], ['phone_number', 'Phone number'], ['name', 'Name'], ['given_name', 'Given name'],
  ['family_name', 'Family name'], ['preferred_username', 'Preferred user name'], ['sub', 'Sub'], ['cognito:user_status', 'Status (e.g. CONFIRMED)'],
  ['status', 'Enabled or Disabled'],
];

/** Cognito's filter syntax: `email ^= "ann"`; quotes and backslashes in the value are escaped. */
export function cognitoFilter(attribute: string, match: string, value: string) {
  return `${attribute} ${match === 'prefix' ? '^=' : '='} "${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export const usersPage: Page = async (main, [poolId], query) => {
  const { UserPool: pool } = await call('DescribeUserPool', { UserPoolId: poolId });
  const attribute = query.get('attr') ?? 'email', match = query.get('match') ?? 'prefix', q = query.get('q') ?? '';
  const token = query.get('page') ?? undefined;
  const history = (query.get('back') ?? '').split(',').filter(Boolean);
  const filter = q ? cognitoFilter(attribute, match, q) : undefined;
  const results = h('div', { id: 'user-results' });
  let listed: any;
  try {
    listed = await call('ListUsers', { UserPoolId: poolId, Limit: 20, Filter: filter, PaginationToken: token });
  } catch (e) {
    results.append(notice(errorText(e), 'error'));
  }
  const here = (extra: Record<string, string>) => {
    const p = new URLSearchParams({ attr: attribute, match, q, ...extra });
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return poolHref(poolId, `/users?${p}`);
  };
  if (listed) {
    results.append(
      h('p', { class: 'muted' }, filter ? ['Filter: ', h('code', null, filter)] : 'All users'),
      table('Users', ['User name', 'Email', 'Status', 'Enabled', 'Created'], listed.Users.map((u: any) => [
        link(userHref(poolId, u.Username), u.Username), attr(u, 'email'), u.UserStatus, u.Enabled ? 'Yes' : 'No', time(u.UserCreateDate),
      ]), { captionHidden: true }),
      h('nav', { 'aria-label': 'Pages of users', class: 'pager' },
        history.length ? link(here({ page: history.at(-1) === '-' ? '' : history.at(-1)!, back: history.slice(0, -1).join(',') }), 'Previous page') : null,
        listed.PaginationToken ? link(here({ page: listed.PaginationToken, back: [...history, token ?? '-'].join(',') }), 'Next page') : null));
  }
  const search = form({
    label: 'Search users', submit: 'Search',
    fields: [h('div', { class: 'inline' },
      select({ label: 'Attribute', path: 'attr', value: attribute, options: FILTER_ATTRIBUTES }),
      select({ label: 'Match', path: 'match', value: match, options: [['prefix', 'starts with'], ['exact', 'is exactly']] }),
      input({ label: 'Value', path: 'filter', name: 'q', value: q, type: 'search' }))],
    onsubmit: async (f) => { go(here({ attr: valueOf(f, 'attr'), match: valueOf(f, 'match'), q: valueOf(f, 'q'), page: '', back: '' })); },
  });
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Users', undefined]),
    heading(`Users of ${pool.Name}`, h('a', { href: poolHref(poolId, '/users/new'), class: 'button' }, 'Create user')),
    poolNav(poolId, 'users'),
    search, results);
};

export const newUserPage: Page = async (main, [poolId]) => {
  const { UserPool: pool } = await call('DescribeUserPool', { UserPoolId: poolId });
  const byEmail = pool.UsernameAttributes?.includes('email'), byPhone = pool.UsernameAttributes?.includes('phone_number');
  const loginLabel = byEmail && byPhone ? 'Email address or phone number' : byEmail ? 'Email address' : byPhone ? 'Phone number' : 'User name';
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Users', poolHref(poolId, '/users')], ['New', undefined]),
    heading('Create a user'),
    poolNav(poolId, 'users'),
    form({
      label: 'Create a user', submit: 'Create user',
      byType: { UsernameExistsException: 'username', InvalidPasswordException: 'temporaryPassword', AliasExistsException: 'userAttributes' },
      fields: [
        input({ label: loginLabel, path: 'username', required: true, type: byEmail && !byPhone ? 'email' : 'text' }),
        byEmail ? null : input({ label: 'Email address', path: 'userAttributes', name: 'email', type: 'email' }),
        byPhone ? null : input({ label: 'Phone number', path: 'userAttributes.phone', name: 'phone', type: 'tel', hint: 'With the country code: +15555550100.' }),
        checkbox({ label: 'Email address is verified', path: 'emailVerified', checked: true }),
        input({ label: 'Temporary password', path: 'temporaryPassword', type: 'text', hint: 'Leave empty to generate one.' }),
        choices({ label: 'Invitation', path: 'messageAction', name: 'invite', kind: 'radio', selected: ['EMAIL'],
          options: [['EMAIL', 'Send by email'], ['SMS', 'Send by SMS'], ['SUPPRESS', 'Do not send']] }),
      ],
      onsubmit: async (f) => {
        const username = valueOf(f, 'username').trim();
        const attrs: { Name: string; Value: string }[] = [];
        const email = byEmail && username.includes('@') ? username : valueOf(f, 'email').trim();
        const phone = byPhone && username.startsWith('+') ? username : valueOf(f, 'phone').trim();
        if (email) attrs.push({ Name: 'email', Value: email }, { Name: 'email_verified', Value: checked(f, 'emailVerified') ? 'true' : 'false' });
        if (phone) attrs.push({ Name: 'phone_number', Value: phone });
        const invite = valueOf(f, 'invite');
        const r = await call('AdminCreateUser', {
          UserPoolId: poolId, Username: username, UserAttributes: attrs, TemporaryPassword: valueOf(f, 'temporaryPassword') || undefined,
          MessageAction: invite === 'SUPPRESS' ? 'SUPPRESS' : undefined, DesiredDeliveryMediums: invite === 'SUPPRESS' ? undefined : [invite],
        });
        go(userHref(poolId, r.User.Username) + '?created=1');
      },
    }));
};

async function optional<T>(run: () => Promise<T>): Promise<T | string> {
  try { return await run(); } catch (e) {
    if (e instanceof ApiError && (e.type === 'UnknownOperationException')) return 'Not available on this server yet.';
    return errorText(e);
  }
}

export const userPage: Page = async (main, [poolId, username], query) => {
  const [{ UserPool: pool }, user] = await Promise.all([call('DescribeUserPool', { UserPoolId: poolId }), call('AdminGetUser', { UserPoolId: poolId, Username: username })]);
  const [groups, allGroups, events, devices] = await Promise.all([
    call('AdminListGroupsForUser', { UserPoolId: poolId, Username: username, Limit: 60 }),
    call('ListGroups', { UserPoolId: poolId, Limit: 60 }),
    call('AdminListUserAuthEvents', { UserPoolId: poolId, Username: username, MaxResults: 25 }),
    optional(() => call('AdminListDevices', { UserPoolId: poolId, Username: username, Limit: 60 })),
  ]);
  const result = h('div', { id: 'user-action-result' });
  const rerender = (message?: string) => go(userHref(poolId, username) + (message ? `?done=${encodeURIComponent(message)}` : ''));

  const button = (label: string, cls: string, run: () => Promise<unknown>, done: string, confirm?: { title: string; body: string; confirm: string }) => {
    const b = h('button', { type: 'button', class: cls }, label);
    b.addEventListener('click', async () => {
      if (confirm && !(await confirmDialog({ ...confirm, danger: cls === 'danger', body: h('p', null, confirm.body) }))) return;
      if (await act(b, result, done, run)) rerender(done);
    });
    return b;
  };
  const name = username;
  const actions = h('div', { class: 'actions' },
    user.Enabled
      ? button('Disable user', 'secondary', () => call('AdminDisableUser', { UserPoolId: poolId, Username: name }), `${name} is disabled.`,
        { title: `Disable ${name}?`, body: 'They cannot sign in, and their sessions end now.', confirm: 'Disable user' })
      : button('Enable user', 'secondary', () => call('AdminEnableUser', { UserPoolId: poolId, Username: name }), `${name} is enabled.`),
    button('Reset password', 'secondary', () => call('AdminResetUserPassword', { UserPoolId: poolId, Username: name }), `${name} must reset their password; a code was sent to them.`,
      { title: `Reset the password of ${name}?`, body: 'Their password stops working now and their sessions end; they get a code to choose a new one.', confirm: 'Reset password' }),
    button('Sign out everywhere', 'secondary', () => call('AdminUserGlobalSignOut', { UserPoolId: poolId, Username: name }), `${name} is signed out everywhere.`,
      { title: `Sign ${name} out everywhere?`, body: 'Every session of theirs ends now.', confirm: 'Sign out everywhere' }),
    (() => {
      const b = h('button', { type: 'button', class: 'danger' }, 'Delete user');
      b.addEventListener('click', async () => {
        if (!(await confirmDialog({ title: `Delete ${name}?`, danger: true, confirm: 'Delete user', body: h('p', null, 'The user and their sessions, groups and history are deleted. This cannot be undone.') }))) return;
        if (await act(b, result, `${name} deleted.`, () => call('AdminDeleteUser', { UserPoolId: poolId, Username: name }))) go(poolHref(poolId, '/users'));
      });
      return b;
    })());

  const memberOf = new Set(groups.Groups.map((g: any) => g.GroupName));
  const addable = allGroups.Groups.filter((g: any) => !memberOf.has(g.GroupName));
  const groupRows = groups.Groups.map((g: any) => {
    const b = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Remove from ${g.GroupName}` }, 'Remove');
    b.addEventListener('click', async () => {
      if (await act(b, result, `${name} removed from ${g.GroupName}.`, () => call('AdminRemoveUserFromGroup', { UserPoolId: poolId, Username: name, GroupName: g.GroupName }))) rerender(`${name} removed from ${g.GroupName}.`);
    });
    return [link(poolHref(poolId, `/groups/${encodeURIComponent(g.GroupName)}`), g.GroupName), g.Description ?? '', b];
  });
  const addGroup = addable.length ? form({
    label: 'Add to a group', submit: 'Add to group',
    fields: [select({ label: 'Group', path: 'groupName', options: addable.map((g: any) => [g.GroupName, g.GroupName]) })],
    onsubmit: async (f) => {
      const g = valueOf(f, 'groupName');
      await call('AdminAddUserToGroup', { UserPoolId: poolId, Username: name, GroupName: g });
      rerender(`${name} added to ${g}.`);
    },
  }) : h('p', { class: 'muted' }, allGroups.Groups.length ? 'Member of every group.' : 'The pool has no groups.');

  const editable = (user.UserAttributes ?? []).filter((a: any) => a.Name !== 'sub');
  const attrForm = form({
    label: 'Attributes', submit: 'Save attributes',
    byType: { AliasExistsException: 'userAttributes' },
    fields: [h('div', { 'data-path': 'userAttributes', class: 'field' }, editable.map((a: any) => input({ label: a.Name, path: `attr:${a.Name}`, value: a.Value })),
      h('p', { class: 'field-error', hidden: true }))],
    onsubmit: async (f) => {
      const changed = editable.filter((a: any) => valueOf(f, `attr:${a.Name}`) !== a.Value).map((a: any) => ({ Name: a.Name, Value: valueOf(f, `attr:${a.Name}`) }));
      if (!changed.length) return;
      await call('AdminUpdateUserAttributes', { UserPoolId: poolId, Username: name, UserAttributes: changed });
      rerender('Attributes saved.');
    },
  });

  const mfaOff = user.UserMFASettingList?.length
    ? button('Turn off MFA for this user', 'secondary', () => call('AdminSetUserMFAPreference', {
      UserPoolId: poolId, Username: name, SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false }, SMSMfaSettings: { Enabled: false, PreferredMfa: false }, EmailMfaSettings: { Enabled: false, PreferredMfa: false },
    }), `MFA is off for ${name}.`, { title: `Turn off MFA for ${name}?`, body: 'Their second factors are switched off (a lost phone, say); where the pool requires MFA they set one up at their next sign-in.', confirm: 'Turn off MFA' })
    : null;
  const deviceRows = typeof devices === 'string' ? [] : (devices.Devices ?? []).map((d: any) => {
    const label = (d.DeviceAttributes ?? []).find((a: any) => a.Name === 'device_name')?.Value ?? d.DeviceKey;
    const b = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Forget device ${label}` }, 'Forget');
    b.addEventListener('click', async () => {
      if (await act(b, result, `Device ${label} forgotten.`, () => call('AdminForgetDevice', { UserPoolId: poolId, Username: name, DeviceKey: d.DeviceKey }))) rerender(`Device ${label} forgotten.`);
    });
    const status = (d.DeviceAttributes ?? []).find((a: any) => a.Name === 'dev:device_remembered_status')?.Value ?? '';
    return [label, status, time(d.DeviceLastAuthenticatedDate), time(d.DeviceCreateDate), b];
  });
  const mfa = [user.PreferredMfaSetting ? `preferred: ${user.PreferredMfaSetting}` : null, user.UserMFASettingList?.length ? `enabled: ${user.UserMFASettingList.join(', ')}` : null].filter(Boolean).join('; ');
  const done = query.get('done') ?? (query.get('created') ? `${name} created.` : null);
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Users', poolHref(poolId, '/users')], [name, undefined]),
    heading(`User ${attr(user, 'email') || name}`),
    poolNav(poolId, 'users'),
    done ? notice(done, 'success') : null,
    facts([
      ['User name', h('code', null, user.Username)], ['Sub', h('code', null, attr(user, 'sub'))],
      ['Status', h('span', { id: 'user-status' }, user.UserStatus)], ['Enabled', h('span', { id: 'user-enabled' }, user.Enabled ? 'Yes' : 'No')],
      ['Multi-factor authentication', mfa || 'None set up'], ['Created', time(user.UserCreateDate)], ['Last changed', time(user.UserLastModifiedDate)],
    ]),
    section('Actions', actions, mfaOff ? h('div', { class: 'actions' }, mfaOff) : null, result),
    section('Groups', table('Groups of this user', ['Group', 'Description', 'Action'], groupRows, { captionHidden: true }), addGroup),
    section('Attributes', attrForm),
    section('Devices', typeof devices === 'string' ? h('p', { class: 'muted' }, devices)
      : table('Devices', ['Device', 'Remembered', 'Last signed in', 'Created', 'Action'], deviceRows, { captionHidden: true })),
    section('Passkeys', h('p', { class: 'muted' }, 'Cognito lists passkeys only to their user (ListWebAuthnCredentials); there is no admin operation for them.')),
    section('Sign-in history', table('Auth events', ['Time', 'Event', 'Outcome', 'Password', 'Address'], events.AuthEvents.map((e: any) => [
      time(e.CreationDate), e.EventType, e.EventResponse, (e.ChallengeResponses ?? []).map((c: any) => `${c.ChallengeName}: ${c.ChallengeResponse}`).join(', '),
      e.EventContextData?.IpAddress ?? '',
    ]), { captionHidden: true })));
};
