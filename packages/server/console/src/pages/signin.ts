// Signing in: SRP with the operator's email and password, then whatever step the pool asks for
// (a new password after the invitation; MFA codes, MFA choice or setup once the pool has them).
import type { SignInOutput } from '@gatehouse/auth';
import { call, ApiError } from '../api.js';
import { clear, h } from '../dom.js';
import { form, input, choices, valueOf } from '../forms.js';
import { session } from '../session.js';
import { heading, notice } from '../ui.js';
import type { Page } from '../main.js';

/** Whether the signed-in user may use the console: any admin operation tells (the server checks the group). */
export async function checkOperator(): Promise<true | string> {
  try {
    await call('ListUserPools', { MaxResults: 1 });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.type === 'AccessDeniedException') return e.message;
    throw e;
  }
}

/** Sign-in errors as the auth library names them, in words for the operator. */
function authError(e: unknown): Error {
  const err = e as { name?: string; message?: string };
  return new Error(err.name === 'NotAuthorizedException' ? 'Incorrect email or password.' : `${err.message ?? String(e)}${err.name ? ` (${err.name})` : ''}`);
}

export const signInPage: Page = async (main, _params, query) => {
  const auth = session();
  const next = query.get('next') || '#/pools';
  const message = query.get('m');

  const finish = async () => {
    const ok = await checkOperator();
    if (ok !== true) {
      await auth.signOut().catch(() => {});
      clear(main, heading('Not an operator'),
        notice(['You signed in, but you may not use the console: ', ok], 'error'),
        h('p', null, 'An operator can add you to the operators group, or run ', h('code', null, 'npx gatehouse console add-operator <email>'), ' on the server.'),
        h('p', null, h('a', { href: '#/signin' }, 'Sign in as someone else')));
      main.querySelector<HTMLElement>('h1')?.focus();
      return;
    }
    location.hash = next.startsWith('#/') && !next.startsWith('#/signin') ? next : '#/pools';
  };

  const step = async (out: SignInOutput) => {
    if (out.isSignedIn || out.nextStep.signInStep === 'DONE') return finish();
    const s = out.nextStep;
    let fields: ReturnType<typeof input>[] = [];
    let title = '';
    let answer: (f: HTMLFormElement) => string = (f) => valueOf(f, 'code').trim();
    switch (s.signInStep) {
      case 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED':
        title = 'Choose your password';
        fields = [input({ label: 'New password', path: 'password', type: 'password', autocomplete: 'new-password', required: true,
          hint: 'At least 12 characters, with upper and lower case letters and a number.' })];
        answer = (f) => valueOf(f, 'password');
        break;
      case 'CONFIRM_SIGN_IN_WITH_TOTP_CODE':
        title = 'Enter the code from your authenticator app';
        fields = [input({ label: 'Code', path: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true })];
        break;
      case 'CONFIRM_SIGN_IN_WITH_SMS_CODE': case 'CONFIRM_SIGN_IN_WITH_EMAIL_CODE':
        title = `Enter the code sent to ${s.codeDeliveryDetails?.destination ?? 'you'}`;
        fields = [input({ label: 'Code', path: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true })];
        break;
      case 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION': case 'CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION':
        title = s.signInStep === 'CONTINUE_SIGN_IN_WITH_MFA_SELECTION' ? 'Choose a second factor' : 'Set up a second factor';
        fields = [choices({ label: 'Second factor', path: 'code', name: 'code', kind: 'radio', options: (s.allowedMFATypes ?? []).map((t) => [t, t]), selected: [s.allowedMFATypes?.[0] ?? ''] }) as never];
        answer = (f) => valueOf(f, 'code');
        break;
      case 'CONTINUE_SIGN_IN_WITH_TOTP_SETUP':
        title = 'Set up your authenticator app';
        fields = [
          h('p', null, 'Add this key to your authenticator app, then enter the code it shows: ', h('code', { class: 'secret' }, s.totpSetupDetails.sharedSecret)) as never,
          input({ label: 'Code', path: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true }),
        ];
        break;
      case 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION': {
        const names: Record<string, string> = { PASSWORD: 'Password', PASSWORD_SRP: 'Password', WEB_AUTHN: 'Passkey', EMAIL_OTP: 'Code by email', SMS_OTP: 'Code by SMS' };
        // PASSWORD and PASSWORD_SRP both ask for the password; SRP keeps it off the wire.
        const offered = (s.availableChallenges ?? []).filter((c) => c !== 'PASSWORD' || !s.availableChallenges?.includes('PASSWORD_SRP'));
        title = 'Choose how to sign in';
        fields = [choices({ label: 'Sign in with', path: 'code', name: 'code', kind: 'radio', options: offered.map((c) => [c, names[c] ?? c]), selected: [offered[0] ?? ''] }) as never];
        answer = (f) => valueOf(f, 'code');
        break;
      }
      case 'CONFIRM_SIGN_IN_WITH_PASSWORD':
        title = 'Enter your password';
        fields = [input({ label: 'Password', path: 'password', type: 'password', autocomplete: 'current-password', required: true })];
        answer = (f) => valueOf(f, 'password');
        break;
      case 'CONTINUE_SIGN_IN_WITH_EMAIL_SETUP':
        title = 'Email for sign-in codes';
        fields = [input({ label: 'Email address', path: 'code', type: 'email', autocomplete: 'email', required: true })];
        break;
      default:
        clear(main, heading('Sign in'), notice(`This sign-in step is not supported by the console: ${s.signInStep}.`, 'error'));
        return;
    }
    clear(main, heading(title), form({
      label: title, fields, submit: 'Continue',
      onsubmit: async (f) => {
        let out: SignInOutput;
        try { out = await auth.confirmSignIn({ challengeResponse: answer(f) }); } catch (e) { throw authError(e); }
        await step(out);
      },
    }));
    main.querySelector<HTMLElement>('h1')?.focus();
  };

  // A passkey needs only the email: choice-based sign-in (USER_AUTH) preferring WEB_AUTHN; a pool
  // that offers no passkey to this user answers with the factors it does offer.
  const passkey = h('button', { type: 'button', class: 'secondary' }, 'Sign in with a passkey');
  passkey.addEventListener('click', async () => {
    const f = passkey.closest('form')!;
    const alert = f.querySelector<HTMLElement>('.form-alert')!;
    alert.hidden = true;
    passkey.disabled = true;
    try {
      await auth.signOut().catch(() => {});
      await step(await auth.signIn({ username: valueOf(f, 'username').trim(), options: { authFlowType: 'USER_AUTH', preferredChallenge: 'WEB_AUTHN' } }));
    } catch (e) {
      alert.textContent = authError(e).message;
      alert.hidden = false;
      alert.focus();
    } finally {
      passkey.disabled = false;
    }
  });

  clear(main,
    heading('Sign in to the Gatehouse console'),
    message ? notice(message, 'info') : null,
    form({
      label: 'Sign in', submit: 'Sign in',
      fields: [
        input({ label: 'Email address', path: 'username', type: 'email', autocomplete: 'username', required: true }),
        input({ label: 'Password', path: 'password', type: 'password', autocomplete: 'current-password', required: true }),
      ],
      onsubmit: async (f) => {
        // A stale session in this tab is replaced by the new sign-in.
        await auth.signOut().catch(() => {});
        let out: SignInOutput;
        try { out = await auth.signIn({ username: valueOf(f, 'username').trim(), password: valueOf(f, 'password') }); } catch (e) { throw authError(e); }
        await step(out);
      },
      extra: passkey,
    }));
};
