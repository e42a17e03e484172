// User pools: the list, creating one, its settings (UpdateUserPool with every setting, since
// Cognito resets what an update leaves out), and deleting one after typing its name.
import { call } from '../api.js';
import { clear, facts, h, link, table, time } from '../dom.js';
import { checkbox, checked, checkedValues, choices, form, input, numberOf, select, textarea, valueOf } from '../forms.js';
import { consoleConfig } from '../session.js';
import { act, breadcrumbs, confirmDialog, heading, notice, poolNav, section } from '../ui.js';
import { go, type Page } from '../main.js';

export const poolHref = (id: string, rest = '') => `#/pools/${encodeURIComponent(id)}${rest}`;

export const poolsPage: Page = async (main) => {
  const pools: any[] = [];
  let token: string | undefined;
  do {
    const r = await call('ListUserPools', { MaxResults: 60, NextToken: token });
    pools.push(...r.UserPools);
    token = r.NextToken;
  } while (token);
  const system = consoleConfig().userPoolId;
  clear(main,
    heading('User pools', h('a', { href: '#/pools/new', class: 'button' }, 'Create user pool')),
    table('User pools', ['Name', 'Pool id', 'Created', 'Last changed'], pools.map((p) => [
      h('span', null, link(poolHref(p.Id), p.Name), p.Id === system ? h('span', { class: 'tag' }, ' console operators') : null),
      h('code', null, p.Id), time(p.CreationDate), time(p.LastModifiedDate),
    ]), { captionHidden: true }));
};

export const newPoolPage: Page = async (main) => {
  clear(main,
    breadcrumbs(['User pools', '#/pools'], ['New user pool', undefined]),
    heading('Create a user pool'),
    form({
      label: 'Create a user pool', submit: 'Create user pool',
      fields: [
        input({ label: 'Name', path: 'poolName', required: true }),
        choices({ label: 'Users sign in with', path: 'usernameAttributes', name: 'signInWith', kind: 'radio', selected: ['email'],
          options: [['username', 'A user name (email and phone can be aliases later)'], ['email', 'Email address'], ['phone_number', 'Phone number'], ['email phone_number', 'Email address or phone number']] }),
        choices({ label: 'Verify automatically', path: 'autoVerifiedAttributes', name: 'autoVerify', selected: ['email'],
          hint: 'A code is sent to these at sign-up; users can then recover their account through them.', options: [['email', 'Email address'], ['phone_number', 'Phone number']] }),
        input({ label: 'Minimum password length', path: 'policies.passwordPolicy.minimumLength', type: 'number', value: 8, min: 6, max: 99 }),
        checkbox({ label: 'Users may sign themselves up', path: 'adminCreateUserConfig.allowAdminCreateUserOnly', name: 'selfSignUp', checked: true }),
        checkbox({ label: 'Deletion protection', path: 'deletionProtection', checked: false }),
      ],
      onsubmit: async (f) => {
        const signInWith = valueOf(f, 'signInWith');
        const r = await call('CreateUserPool', {
          PoolName: valueOf(f, 'poolName'),
          UsernameAttributes: signInWith === 'username' ? undefined : signInWith.split(' '),
          AutoVerifiedAttributes: checkedValues(f, 'autoVerify'),
          Policies: { PasswordPolicy: { MinimumLength: numberOf(f, 'policies.passwordPolicy.minimumLength') } },
          AdminCreateUserConfig: { AllowAdminCreateUserOnly: !checked(f, 'selfSignUp') },
          DeletionProtection: checked(f, 'deletionProtection') ? 'ACTIVE' : 'INACTIVE',
        });
        go(poolHref(r.UserPool.Id));
      },
    }));
};

/** What UpdateUserPool takes back from DescribeUserPool: every setting it would otherwise reset. */
const UPDATABLE = ['Policies', 'DeletionProtection', 'LambdaConfig', 'AutoVerifiedAttributes', 'VerificationMessageTemplate', 'SmsAuthenticationMessage',
  'UserAttributeUpdateSettings', 'MfaConfiguration', 'DeviceConfiguration', 'EmailConfiguration', 'SmsConfiguration', 'AdminCreateUserConfig',
  'UserPoolAddOns', 'AccountRecoverySetting', 'UserPoolTags', 'UserPoolTier'];

const RECOVERY: Record<string, { Name: string; Priority: number }[] | undefined> = {
  default: undefined,
  email: [{ Name: 'verified_email', Priority: 1 }, { Name: 'verified_phone_number', Priority: 2 }],
  phone: [{ Name: 'verified_phone_number', Priority: 1 }, { Name: 'verified_email', Priority: 2 }],
  emailOnly: [{ Name: 'verified_email', Priority: 1 }],
  phoneOnly: [{ Name: 'verified_phone_number', Priority: 1 }],
  admin: [{ Name: 'admin_only', Priority: 1 }],
};
function recoveryChoice(setting: any): string {
  const mech = JSON.stringify(setting?.RecoveryMechanisms ?? null);
  return Object.entries(RECOVERY).find(([, v]) => JSON.stringify(v ?? null) === mech)?.[0] ?? 'default';
}

export const poolSettingsPage: Page = async (main, [poolId]) => {
  const [{ UserPool: pool }, mfaConfig] = await Promise.all([call('DescribeUserPool', { UserPoolId: poolId }), call('GetUserPoolMfaConfig', { UserPoolId: poolId })]);
  const pp = pool.Policies?.PasswordPolicy ?? {};
  const vt = pool.VerificationMessageTemplate ?? {};
  const invite = pool.AdminCreateUserConfig?.InviteMessageTemplate ?? {};
  const factors: string[] = pool.Policies?.SignInPolicy?.AllowedFirstAuthFactors ?? ['PASSWORD'];
  const deleteResult = h('div');
  const isSystem = pool.Id === consoleConfig().userPoolId;

  const settings = form({
    label: 'Pool settings', submit: 'Save settings',
    fields: [
      input({ label: 'Name', path: 'poolName', value: pool.Name, required: true }),
      h('fieldset', null, h('legend', null, 'Password policy'),
        input({ label: 'Minimum length', path: 'policies.passwordPolicy.minimumLength', type: 'number', value: pp.MinimumLength ?? 8 }),
        checkbox({ label: 'Require an upper case letter', path: 'policies.passwordPolicy.requireUppercase', checked: !!pp.RequireUppercase }),
        checkbox({ label: 'Require a lower case letter', path: 'policies.passwordPolicy.requireLowercase', checked: !!pp.RequireLowercase }),
        checkbox({ label: 'Require a number', path: 'policies.passwordPolicy.requireNumbers', checked: !!pp.RequireNumbers }),
        checkbox({ label: 'Require a symbol', path: 'policies.passwordPolicy.requireSymbols', checked: !!pp.RequireSymbols }),
        input({ label: 'Temporary passwords last (days)', path: 'policies.passwordPolicy.temporaryPasswordValidityDays', type: 'number', value: pp.TemporaryPasswordValidityDays ?? 7 })),
      choices({ label: 'Sign-in factors (first factor choices of USER_AUTH)', path: 'policies.signInPolicy.allowedFirstAuthFactors', name: 'factors', selected: factors,
        options: [['PASSWORD', 'Password'], ['EMAIL_OTP', 'Email code'], ['SMS_OTP', 'SMS code'], ['WEB_AUTHN', 'Passkey']] }),
      choices({ label: 'Verify automatically', path: 'autoVerifiedAttributes', name: 'autoVerify', selected: pool.AutoVerifiedAttributes ?? [],
        options: [['email', 'Email address'], ['phone_number', 'Phone number']] }),
      select({ label: 'Account recovery', path: 'accountRecoverySetting', value: recoveryChoice(pool.AccountRecoverySetting), options: [
        ['default', 'Cognito’s default (verified phone, then email)'], ['email', 'Verified email, then phone'], ['phone', 'Verified phone, then email'],
        ['emailOnly', 'Verified email only'], ['phoneOnly', 'Verified phone only'], ['admin', 'Administrators only']] }),
      h('fieldset', null, h('legend', null, 'Verification message'),
        input({ label: 'Email subject', path: 'verificationMessageTemplate.emailSubject', value: vt.EmailSubject ?? '' }),
        textarea({ label: 'Email message', path: 'verificationMessageTemplate.emailMessage', value: vt.EmailMessage ?? '', hint: '{####} stands for the code.' }),
        textarea({ label: 'SMS message', path: 'verificationMessageTemplate.smsMessage', value: vt.SmsMessage ?? '', rows: 2 })),
      h('fieldset', null, h('legend', null, 'Invitation message'),
        input({ label: 'Email subject', path: 'adminCreateUserConfig.inviteMessageTemplate.emailSubject', value: invite.EmailSubject ?? '' }),
        textarea({ label: 'Email message', path: 'adminCreateUserConfig.inviteMessageTemplate.emailMessage', value: invite.EmailMessage ?? '', hint: '{username} and {####} (the temporary password) must appear. Empty: Cognito’s default.' })),
      checkbox({ label: 'Users may sign themselves up', path: 'adminCreateUserConfig.allowAdminCreateUserOnly', name: 'selfSignUp', checked: !pool.AdminCreateUserConfig?.AllowAdminCreateUserOnly }),
      checkbox({ label: 'Deletion protection', path: 'deletionProtection', checked: pool.DeletionProtection === 'ACTIVE' }),
    ],
    onsubmit: async (f) => {
      const input: Record<string, any> = { UserPoolId: pool.Id, PoolName: valueOf(f, 'poolName') };
      for (const k of UPDATABLE) if (pool[k] !== undefined) input[k] = structuredClone(pool[k]);
      input.Policies = {
        ...input.Policies,
        PasswordPolicy: {
          ...pp,
          MinimumLength: numberOf(f, 'policies.passwordPolicy.minimumLength'),
          RequireUppercase: checked(f, 'policies.passwordPolicy.requireUppercase'), RequireLowercase: checked(f, 'policies.passwordPolicy.requireLowercase'),
          RequireNumbers: checked(f, 'policies.passwordPolicy.requireNumbers'), RequireSymbols: checked(f, 'policies.passwordPolicy.requireSymbols'),
          TemporaryPasswordValidityDays: numberOf(f, 'policies.passwordPolicy.temporaryPasswordValidityDays'),
        },
        SignInPolicy: { AllowedFirstAuthFactors: checkedValues(f, 'factors') },
      };
      input.AutoVerifiedAttributes = checkedValues(f, 'autoVerify');
      const recovery = RECOVERY[valueOf(f, 'accountRecoverySetting')];
      if (recovery) input.AccountRecoverySetting = { RecoveryMechanisms: recovery };
      else delete input.AccountRecoverySetting;
      input.VerificationMessageTemplate = {
        ...vt, EmailSubject: valueOf(f, 'verificationMessageTemplate.emailSubject'), EmailMessage: valueOf(f, 'verificationMessageTemplate.emailMessage'),
        SmsMessage: valueOf(f, 'verificationMessageTemplate.smsMessage'),
      };
      const acu = { ...input.AdminCreateUserConfig, AllowAdminCreateUserOnly: !checked(f, 'selfSignUp') };
      delete acu.UnusedAccountValidityDays; // the temporary password's lifetime is in the password policy
      const subject = valueOf(f, 'adminCreateUserConfig.inviteMessageTemplate.emailSubject'), message = valueOf(f, 'adminCreateUserConfig.inviteMessageTemplate.emailMessage');
      if (subject || message) acu.InviteMessageTemplate = { ...invite, EmailSubject: subject || undefined, EmailMessage: message || undefined };
      else delete acu.InviteMessageTemplate;
      input.AdminCreateUserConfig = acu;
      input.DeletionProtection = checked(f, 'deletionProtection') ? 'ACTIVE' : 'INACTIVE';
      await call('UpdateUserPool', input);
      go(poolHref(pool.Id) + '?saved=1');
    },
  });

  // Multi-factor authentication has its own operation (SetUserPoolMfaConfig), so its own form.
  const mfa = form({
    label: 'Multi-factor authentication', submit: 'Save MFA settings',
    fields: [
      select({ label: 'MFA for this pool', path: 'mfaConfiguration', value: mfaConfig.MfaConfiguration ?? 'OFF', options: [['OFF', 'Off'], ['OPTIONAL', 'Optional (users choose)'], ['ON', 'Required']] }),
      choices({ label: 'Second factors offered', path: 'factors', name: 'mfaFactors', hint: 'Optional or required MFA needs at least one.',
        selected: [mfaConfig.SoftwareTokenMfaConfiguration?.Enabled ? 'TOTP' : '', mfaConfig.EmailMfaConfiguration ? 'EMAIL' : '', mfaConfig.SmsMfaConfiguration ? 'SMS' : ''].filter(Boolean),
        options: [['TOTP', 'Authenticator app (TOTP)'], ['EMAIL', 'Code by email'], ['SMS', 'Code by SMS']] }),
      input({ label: 'Passkeys: relying party', path: 'webAuthnConfiguration.relyingPartyId', value: mfaConfig.WebAuthnConfiguration?.RelyingPartyId ?? '',
        hint: 'The host name passkeys are bound to (the apps\' domain, e.g. example.com, or localhost); sign-in with them is a sign-in factor above.' }),
    ],
    onsubmit: async (f) => {
      const factors = checkedValues(f, 'mfaFactors');
      const rpId = valueOf(f, 'webAuthnConfiguration.relyingPartyId').trim();
      await call('SetUserPoolMfaConfig', {
        UserPoolId: pool.Id, MfaConfiguration: valueOf(f, 'mfaConfiguration'),
        SoftwareTokenMfaConfiguration: { Enabled: factors.includes('TOTP') },
        EmailMfaConfiguration: factors.includes('EMAIL') ? (mfaConfig.EmailMfaConfiguration ?? {}) : undefined,
        // SMS goes through GATEHOUSE_SMS_WEBHOOK_URL; Cognito's model wants an SNS role, which is kept as it was.
        SmsMfaConfiguration: factors.includes('SMS') ? (mfaConfig.SmsMfaConfiguration ?? { SmsConfiguration: { SnsCallerArn: 'arn:aws:iam::000000000000:role/gatehouse-sms' } }) : undefined,
        // Left out, the passkey settings stay as they are.
        WebAuthnConfiguration: rpId && rpId !== mfaConfig.WebAuthnConfiguration?.RelyingPartyId
          ? { RelyingPartyId: rpId, UserVerification: mfaConfig.WebAuthnConfiguration?.UserVerification ?? 'preferred' } : undefined,
      });
      go(poolHref(pool.Id) + '?saved=mfa');
    },
  });

  const saved = new URLSearchParams(location.hash.split('?')[1] ?? '').get('saved');
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete user pool');
  del.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: `Delete ${pool.Name}?`, confirm: 'Delete user pool', danger: true, typed: pool.Name,
      body: h('p', null, 'Its users, app clients, groups and signing keys are deleted with it. This cannot be undone.'),
    });
    if (!yes) return;
    if (await act(del, deleteResult, `User pool ${pool.Name} deleted.`, () => call('DeleteUserPool', { UserPoolId: pool.Id }))) go('#/pools');
  });

  clear(main,
    breadcrumbs(['User pools', '#/pools'], [pool.Name, undefined]),
    heading(pool.Name),
    poolNav(pool.Id, ''),
    isSystem ? notice('This is the console’s own pool of operators: members of its operators group may use the console.', 'info') : null,
    saved ? notice(saved === 'mfa' ? 'MFA settings saved.' : 'Settings saved.', 'success') : null,
    facts([
      ['Pool id', h('code', null, pool.Id)], ['Users (estimate)', String(pool.EstimatedNumberOfUsers ?? 0)],
      ['Sign-in with', pool.UsernameAttributes?.join(', ') || 'user name'], ['Multi-factor authentication', mfaConfig.MfaConfiguration ?? 'OFF'],
      ['Created', time(pool.CreationDate)], ['Last changed', time(pool.LastModifiedDate)],
    ]),
    section('Settings', settings),
    section('Multi-factor authentication', mfa),
    section('Delete', h('p', null, pool.DeletionProtection === 'ACTIVE' ? 'Deletion protection is on: turn it off above first.' : 'Deleting a pool deletes everything in it.'), del, deleteResult));
};
