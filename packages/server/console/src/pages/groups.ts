// Groups: list, create, delete; a group's members.
import { call } from '../api.js';
import { clear, facts, h, link, table, time } from '../dom.js';
import { form, input, numberOf, valueOf } from '../forms.js';
import { act, breadcrumbs, confirmDialog, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';
import { poolHref } from './pools.js';
import { userHref } from './users.js';

const groupHref = (poolId: string, name: string) => poolHref(poolId, `/groups/${encodeURIComponent(name)}`);

export const groupsPage: Page = async (main, [poolId], query) => {
  const [{ UserPool: pool }, groups] = await Promise.all([
    call('DescribeUserPool', { UserPoolId: poolId }),
    (async () => {
      const out: any[] = [];
      let token: string | undefined;
      do { const r = await call('ListGroups', { UserPoolId: poolId, Limit: 60, NextToken: token }); out.push(...r.Groups); token = r.NextToken; } while (token);
      return out;
    })(),
  ]);
  const result = h('div');
  const rows = groups.map((g) => {
    const b = h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete group ${g.GroupName}` }, 'Delete');
    b.addEventListener('click', async () => {
      if (!(await confirmDialog({ title: `Delete group ${g.GroupName}?`, danger: true, confirm: 'Delete group', body: h('p', null, 'Its members stay; they leave the group.') }))) return;
      if (await act(b, result, `Group ${g.GroupName} deleted.`, () => call('DeleteGroup', { UserPoolId: poolId, GroupName: g.GroupName }))) go(poolHref(poolId, `/groups?done=${encodeURIComponent(`Group ${g.GroupName} deleted.`)}`));
    });
    return [link(groupHref(poolId, g.GroupName), g.GroupName), g.Description ?? '', g.Precedence ?? '', b];
  });
  const done = query.get('done');
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Groups', undefined]),
    heading(`Groups of ${pool.Name}`),
    poolNav(poolId, 'groups'),
    done ? notice(done, 'success') : null,
    table('Groups', ['Group', 'Description', 'Precedence', 'Action'], rows, { captionHidden: true }), result,
    section('Create a group', form({
      label: 'Create a group', submit: 'Create group', byType: { GroupExistsException: 'groupName' },
      fields: [
        input({ label: 'Name', path: 'groupName', required: true }),
        input({ label: 'Description', path: 'description' }),
        input({ label: 'Precedence', path: 'precedence', type: 'number', hint: 'Lower wins when a user is in several groups.' }),
      ],
      onsubmit: async (f) => {
        await call('CreateGroup', { UserPoolId: poolId, GroupName: valueOf(f, 'groupName'), Description: valueOf(f, 'description') || undefined, Precedence: numberOf(f, 'precedence') });
        go(poolHref(poolId, `/groups?done=${encodeURIComponent(`Group ${valueOf(f, 'groupName')} created.`)}`));
      },
    })));
};

export const groupPage: Page = async (main, [poolId, name]) => {
  const [{ UserPool: pool }, { Group: g }, members] = await Promise.all([
    call('DescribeUserPool', { UserPoolId: poolId }), call('GetGroup', { UserPoolId: poolId, GroupName: name }),
    call('ListUsersInGroup', { UserPoolId: poolId, GroupName: name, Limit: 60 }),
  ]);
  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, poolHref(poolId)], ['Groups', poolHref(poolId, '/groups')], [name, undefined]),
    heading(`Group ${name}`),
    poolNav(poolId, 'groups'),
    facts([['Description', g.Description ?? ''], ['Precedence', g.Precedence === undefined ? '' : String(g.Precedence)], ['Created', time(g.CreationDate)]]),
    section('Members', table('Members', ['User name', 'Email', 'Status'], members.Users.map((u: any) => [
      link(userHref(poolId, u.Username), u.Username), (u.Attributes ?? []).find((a: any) => a.Name === 'email')?.Value ?? '', u.UserStatus,
    ]), { captionHidden: true }), members.NextToken ? h('p', { class: 'muted' }, 'The first 60 members are shown.') : null));
};
