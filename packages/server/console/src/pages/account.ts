// The signed-in operator's own account: their passkeys (listed, added, deleted with their own
// access token, as any app's user does; the system pool must allow passkeys and name its relying party).
import type { AuthWebAuthnCredential } from '@gatehouse/auth';
import { clear, h, table, time } from '../dom.js';
import { operatorName, session } from '../session.js';
import { act, errorText, heading, notice, section } from '../ui.js';
import { go, type Page } from '../main.js';

export const accountPage: Page = async (main, _p, query) => {
  const auth = session();
  const name = await operatorName();
  const result = h('div');
  let listed: AuthWebAuthnCredential[] | string;
  try {
    listed = (await auth.listWebAuthnCredentials()).credentials;
  } catch (e) {
    listed = errorText(e);
  }
  const add = h('button', { type: 'button' }, 'Add a passkey');
  add.addEventListener('click', async () => {
    if (await act(add, result, 'Passkey added.', () => auth.associateWebAuthnCredential())) go('#/account?done=added');
  });
  const rows = typeof listed === 'string' ? [] : listed.map((c) => {
    const b = h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete passkey ${c.friendlyCredentialName ?? c.credentialId}` }, 'Delete');
    b.addEventListener('click', async () => {
      if (await act(b, result, 'Passkey deleted.', () => auth.deleteWebAuthnCredential({ credentialId: c.credentialId! }))) go('#/account?done=deleted');
    });
    return [c.friendlyCredentialName ?? c.credentialId ?? '', c.relyingPartyId ?? '', c.createdAt ? time(c.createdAt.getTime() / 1000) : '', b];
  });
  const done = query.get('done');
  clear(main,
    heading('Your account'),
    h('p', null, 'Signed in as ', h('strong', null, name ?? '')),
    done ? notice(done === 'added' ? 'Passkey added.' : 'Passkey deleted.', 'success') : null,
    section('Passkeys',
      h('p', { class: 'muted' }, 'With a passkey you sign in to the console with your email and your device, without your password. The console’s user pool must allow passkeys as a sign-in factor, with its relying party set to this host name.'),
      typeof listed === 'string' ? notice(`Passkeys are not available: ${listed}`, 'info') : table('Your passkeys', ['Passkey', 'Relying party', 'Added', 'Action'], rows, { captionHidden: true }),
      h('div', { class: 'actions' }, add), result));
};
