// The admin console in headless Chromium (playwright-core, Debian's chromium) against a real server:
// an operator invited with the CLI signs in, creates a pool and an app client, creates a user, finds
// them by email, disables, enables and resets them; a sign-in made with aws-amplify shows in the
// activity chart; an import job's progress bar reaches 100 %; a non-operator is refused in the UI
// and at the API. Every main page is screenshotted (.tmp/screenshots) and checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { Amplify } from 'aws-amplify';
import { signIn as amplifySignIn, signOut as amplifySignOut } from 'aws-amplify/auth';
import {
  AdminCreateUserCommand, AdminGetUserCommand, AdminListGroupsForUserCommand, AdminSetUserPasswordCommand, DescribeUserPoolClientCommand, DescribeUserPoolCommand, GetUserPoolMfaConfigCommand,
  ListUserPoolsCommand, SetUserPoolMfaConfigCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { TOTP, Secret } from 'otpauth';
import { MailCatcher, startGatehouse, uniqueEmail, unrefLongClientTimers, type Gatehouse } from './support/harness.js';
import { consoleCall, consoleIds, inviteOperator, operatorToken, OPERATOR_PASSWORD } from './support/console.js';
import { buildCsv } from './support/user-import.js';

unrefLongClientTimers();
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !fs.existsSync(chromiumPath) && `no Chromium at ${chromiumPath} (.ci/run installs Debian's)`;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shots = path.join(root, '.tmp/screenshots');
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const USER_PASSWORD = 'User-Passw0rd-1';

let gh: Gatehouse, mail: MailCatcher, browser: Browser, page: Page;
let operator: string;
const pageErrors: string[] = [];
// What the tests below make and later ones use.
let poolId = '', clientId = '', userEmail = '';

before(async () => {
  if (skip) return;
  fs.mkdirSync(shots, { recursive: true });
  mail = await new MailCatcher().start();
  // Small import batches: the progress bar is read while the job may still be under way.
  gh = await startGatehouse({ GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${mail.port}`, GATEHOUSE_IMPORT_BATCH_SIZE: '20' });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A CSP violation or an uncaught error in the console fails the suite (checked in the last test).
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});
after(async () => {
  await browser?.close();
  await gh?.stop();
  await mail?.close();
});

/** Screenshots the page and runs axe-core in it: no serious or critical violation may remain. */
async function checkPage(name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await (globalThis as any).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: any) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe on ${name}`);
}

/** The page's heading, once the router has put it there. */
async function heading(text: string | RegExp) {
  await page.getByRole('heading', { level: 1, name: text, exact: typeof text === 'string' }).waitFor();
}

test('an operator invited with the CLI signs in with SRP, choosing their own password', { skip }, async () => {
  operator = uniqueEmail('operator');
  const temporary = await inviteOperator(gh, mail, operator);
  await page.goto(`${gh.url}/console/`);
  await heading('Sign in to the Gatehouse console');
  await checkPage('sign-in');
  await page.getByLabel('Email address', { exact: true }).fill(operator);
  await page.getByLabel('Password').fill(temporary);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading('Choose your password');
  await page.getByLabel('New password').fill('short');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('alert').filter({ hasText: /Password/ }).waitFor();
  await page.getByLabel('New password').fill(OPERATOR_PASSWORD);
  await page.getByRole('button', { name: 'Continue' }).click();
  await heading('User pools');
  await page.getByText(operator).waitFor();
  // The tokens live in this tab's sessionStorage; the SigV4 keys are nowhere in the page.
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.documentElement.outerHTML);
  assert.match(stored, /accessToken/);
  assert.ok(!stored.includes(gh.env.GATEHOUSE_ADMIN_SECRET_ACCESS_KEY) && !stored.includes(gh.env.GATEHOUSE_ADMIN_ACCESS_KEY_ID));
  await checkPage('pools');
});

test('the operator creates a pool (a bad name shows Cognito\'s message at the field) and an app client whose secret is shown once', { skip }, async () => {
  await page.getByRole('link', { name: 'Create user pool' }).click();
  await heading('Create a user pool');
  await page.getByLabel('Name', { exact: true }).fill('bad/name');
  await page.getByRole('button', { name: 'Create user pool' }).click();
  const nameField = page.getByLabel('Name', { exact: true });
  await page.locator('.field-error:not([hidden])').first().waitFor();
  assert.equal(await nameField.getAttribute('aria-invalid'), 'true');
  const described = await nameField.evaluate((el) => (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' '));
  assert.match(described, /1 validation error detected: Value 'bad\/name' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'poolName', 'the field in error has the focus');
  await checkPage('pool-create-error');
  const { UserPools } = await gh.admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  assert.ok(!UserPools!.some((p) => p.Name === 'bad/name'), 'nothing saved');

  await nameField.fill('shop');
  await page.getByRole('button', { name: 'Create user pool' }).click();
  await heading('shop');
  poolId = decodeURIComponent(/#\/pools\/([^/?]+)/.exec(page.url())![1]);
  const { UserPool } = await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
  assert.deepEqual(UserPool!.UsernameAttributes, ['email']);
  assert.deepEqual(UserPool!.AutoVerifiedAttributes, ['email']);
  // Settings: a change saves every other setting as it was.
  await page.getByLabel('Minimum length').fill('10');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  const after = (await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }))).UserPool!;
  assert.equal(after.Policies!.PasswordPolicy!.MinimumLength, 10);
  assert.deepEqual(after.AutoVerifiedAttributes, ['email']);
  // MFA has its own form (SetUserPoolMfaConfig); saving the other settings afterwards keeps it.
  await page.getByRole('combobox', { name: 'MFA for this pool' }).selectOption('OPTIONAL');
  await page.getByRole('button', { name: 'Save MFA settings' }).click();
  await page.locator('.field-error:not([hidden]), .form-alert:not([hidden])').first().waitFor();
  await page.getByLabel('Authenticator app (TOTP)').check();
  await page.getByRole('button', { name: 'Save MFA settings' }).click();
  await page.getByText('MFA settings saved.').waitFor();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  const mfa = await gh.admin.send(new GetUserPoolMfaConfigCommand({ UserPoolId: poolId }));
  assert.equal(mfa.MfaConfiguration, 'OPTIONAL');
  assert.equal(mfa.SoftwareTokenMfaConfiguration?.Enabled, true);
  await checkPage('pool-settings');

  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'App clients' }).click();
  await page.getByRole('link', { name: 'Create app client' }).click();
  await heading('Create an app client');
  await page.getByLabel('Name', { exact: true }).fill('web');
  await page.getByLabel('Access token lifetime', { exact: true }).fill('30');
  await page.getByLabel('Callback URLs').fill('https://shop.example/callback\nhttps://shop.example/other');
  await page.getByLabel('Generate a client secret (for server-side apps)').check();
  await page.getByRole('button', { name: 'Create app client' }).click();
  await heading('App client web created');
  const secret = (await page.locator('#client-secret').textContent())!;
  assert.match(secret, /^[a-z0-9]{51}$/);
  await checkPage('client-secret');
  await page.getByRole('link', { name: /go to the app client/ }).click();
  await heading('App client web');
  clientId = decodeURIComponent(/clients\/([^/?]+)/.exec(page.url())![1]);
  assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');
  const { UserPoolClient } = await gh.admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  assert.equal(UserPoolClient!.AccessTokenValidity, 30);
  assert.deepEqual(UserPoolClient!.CallbackURLs, ['https://shop.example/callback', 'https://shop.example/other']);
  await checkPage('client');
});

test('the operator creates a user, finds them by email, disables and enables them, and resets their password', { skip }, async () => {
  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('link', { name: 'Create user' }).click();
  await heading('Create a user');
  userEmail = uniqueEmail('customer');
  await page.getByLabel('Email address', { exact: true }).fill(userEmail);
  await page.getByLabel('Temporary password').fill(USER_PASSWORD);
  await page.getByLabel('Do not send').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await heading(`User ${userEmail}`);
  await checkPage('user');

  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Users' }).click();
  await heading('Users of shop');
  await page.getByLabel('Value').fill(userEmail.slice(0, 14));
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText(`email ^= "${userEmail.slice(0, 14)}"`).waitFor();
  await page.getByRole('cell', { name: userEmail }).waitFor();
  await checkPage('users');
  await page.locator('#user-results tbody tr').first().getByRole('link').click();
  await heading(`User ${userEmail}`);

  await page.getByRole('button', { name: 'Disable user' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Disable user' }).click();
  await page.getByText(`is disabled.`).first().waitFor();
  await page.locator('#user-enabled', { hasText: 'No' }).waitFor();
  const username = (await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: userEmail }))).Username!;
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).Enabled, false);
  await page.getByRole('button', { name: 'Enable user' }).click();
  await page.locator('#user-enabled', { hasText: 'Yes' }).waitFor();
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).Enabled, true);

  await page.getByRole('button', { name: 'Reset password' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reset password' }).click();
  await page.locator('#user-status', { hasText: 'RESET_REQUIRED' }).waitFor();
  assert.equal((await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: username }))).UserStatus, 'RESET_REQUIRED');
});

test('sign-ins made with aws-amplify show in the pool\'s activity chart', { skip }, async () => {
  const email = uniqueEmail('amplify');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: USER_PASSWORD, Permanent: true }));
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url } } });
  // The client has a secret; Amplify cannot send one, so it signs in through a second client without.
  const { json } = await consoleCall(gh, await operatorToken(gh, operator, OPERATOR_PASSWORD), 'CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'spa' });
  Amplify.configure({ Auth: { Cognito: { userPoolId: poolId, userPoolClientId: json.UserPoolClient.ClientId, userPoolEndpoint: gh.url } } });
  const ok = await amplifySignIn({ username: email, password: USER_PASSWORD });
  assert.equal(ok.isSignedIn, true);
  await amplifySignOut();
  await assert.rejects(amplifySignIn({ username: email, password: 'Wrong-Passw0rd-1' }));

  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Activity' }).click();
  await heading('Activity of shop');
  const summary = page.locator('#sign-ins-summary');
  await summary.waitFor();
  const totals = JSON.parse((await summary.getAttribute('data-totals'))!);
  assert.ok(totals.signInSucceeded >= 1, JSON.stringify(totals));
  assert.ok(totals.signInFailed >= 1, JSON.stringify(totals));
  assert.match((await summary.textContent())!, /Sign-ins succeeded [1-9]/);
  assert.equal(await page.locator('#main canvas').count(), 2, 'two charts drawn');
  await checkPage('activity');
  // Refreshing while open: another sign-in appears without reloading (the hour view refreshes every 10 s).
  await amplifySignIn({ username: email, password: USER_PASSWORD });
  await amplifySignOut();
  await page.waitForFunction((before) => JSON.parse(document.getElementById('sign-ins-summary')!.dataset.totals!).signInSucceeded > before, totals.signInSucceeded, { timeout: 20_000 });
  await page.getByRole('radio', { name: 'Last week' }).check();
  await heading('Activity of shop');
  await page.waitForURL(/range=week/);
});

test('an import job uploaded from the console runs to 100 % and lists its failed rows by line', { skip }, async () => {
  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Import jobs' }).click();
  await heading('Import jobs of shop');
  const header = (await page.locator('pre.csv-header').textContent())!.split(',');
  const rows = Array.from({ length: 200 }, (_, i) => ({ 'cognito:username': `imported${i}.${Date.now()}@example.com`, email: `imported${i}.${Date.now()}@example.com`, email_verified: 'true' }));
  rows[7] = { ...rows[7], email_verified: 'maybe' };
  rows[150] = { ...rows[150], email: 'not an email' };
  await page.getByLabel('Job name').fill('customers');
  await page.getByLabel('CSV file', { exact: true }).setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(buildCsv(header, rows)) });
  await checkPage('imports');
  await page.getByRole('button', { name: 'Upload and start' }).click();
  await heading(/^Import job import-/);
  const seen = new Set<string>();
  const bar = page.locator('#import-progress');
  for (let i = 0; i < 600; i++) {
    const [value, max] = await bar.evaluate((p: HTMLProgressElement) => [p.value, p.max]);
    seen.add(`${value}/${max}`);
    if (max === 200 && value === 200) break;
    await page.waitForTimeout(50);
  }
  assert.ok(seen.has('200/200'), [...seen].join(' '));
  await page.locator('#import-progress-label', { hasText: 'Succeeded: 200 of 200 rows (100 %)' }).waitFor();
  const failed = await page.getByRole('table', { name: 'Failed rows' }).locator('tbody tr').allTextContents();
  assert.deepEqual(failed.map((r) => /^\d+/.exec(r)![0]), ['9', '152'], 'CSV lines of the bad rows (the header is line 1)');
  await checkPage('import-job');
});

test('groups and the audit log of the console\'s actions', { skip }, async () => {
  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Groups' }).click();
  await heading('Groups of shop');
  await page.getByLabel('Name', { exact: true }).fill('admins');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByText('Group admins created.').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('admins');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.locator('.field-error:not([hidden])', { hasText: /already exists/ }).waitFor();
  await checkPage('groups');
  // A user joins the group from their page.
  await page.getByRole('navigation', { name: 'User pool' }).getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Value').fill(userEmail);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('cell', { name: userEmail }).waitFor();
  await page.locator('#user-results tbody tr').first().getByRole('link').click();
  await heading(`User ${userEmail}`);
  await page.getByLabel('Group', { exact: true }).selectOption('admins');
  await page.getByRole('button', { name: 'Add to group' }).click();
  await page.getByRole('button', { name: 'Remove from admins' }).waitFor();
  const { Groups } = await gh.admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: userEmail }));
  assert.deepEqual(Groups!.map((g) => g.GroupName), ['admins']);

  // A pool is deleted only once its name is typed in the confirmation.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'User pools' }).click();
  await page.getByRole('link', { name: 'Create user pool' }).click();
  await page.getByLabel('Name', { exact: true }).fill('scratch');
  await page.getByRole('button', { name: 'Create user pool' }).click();
  await heading('scratch');
  const scratch = decodeURIComponent(/#\/pools\/([^/?]+)/.exec(page.url())![1]);
  await page.getByRole('button', { name: 'Delete user pool' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete scratch?' });
  assert.equal(await dialog.getByRole('button', { name: 'Delete user pool' }).isDisabled(), true);
  await dialog.getByLabel('Type scratch to confirm').fill('scratch');
  await dialog.getByRole('button', { name: 'Delete user pool' }).click();
  await heading('User pools');
  await assert.rejects(gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: scratch })), { name: 'ResourceNotFoundException' });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await heading('Audit log');
  const rows = await page.locator('tbody tr').allTextContents();
  for (const op of ['CreateUserPool', 'CreateUserPoolClient', 'AdminCreateUser', 'AdminDisableUser', 'AdminEnableUser', 'AdminResetUserPassword', 'CreateUserImportJob', 'StartUserImportJob', 'CreateGroup']) {
    assert.ok(rows.some((r) => r.includes(op) && r.includes(operator)), `${op} is in the audit log`);
  }
  assert.ok(rows.some((r) => r.includes('CreateGroup') && r.includes('GroupExistsException')));
  await checkPage('audit');
});

test('a user of the console\'s pool outside the operators group is refused in the UI and at the API', { skip }, async () => {
  const { userPoolId } = await consoleIds(gh);
  const staff = uniqueEmail('staff');
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: staff, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: staff }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: staff, Password: OPERATOR_PASSWORD, Permanent: true }));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading('Sign in to the Gatehouse console');
  await page.getByText('You signed out.').waitFor();
  await page.getByLabel('Email address', { exact: true }).fill(staff);
  await page.getByLabel('Password').fill(OPERATOR_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading('Not an operator');
  await page.getByText(/is not a member of the operators group/).waitFor();
  await checkPage('not-an-operator');
  // Going to a page anyway: signed out, back to sign-in.
  await page.goto(`${gh.url}/console/#/pools`);
  await heading('Sign in to the Gatehouse console');
  const r = await consoleCall(gh, await operatorToken(gh, staff, OPERATOR_PASSWORD), 'ListUserPools', { MaxResults: 60 });
  assert.equal(r.status, 403);
  assert.equal(r.type, 'AccessDeniedException');
});

test('where the console\'s pool requires MFA, an operator sets up an authenticator app at sign-in and signs in with its code', { skip }, async () => {
  const { userPoolId } = await consoleIds(gh);
  await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: userPoolId, MfaConfiguration: 'ON', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  try {
    await page.goto(`${gh.url}/console/#/signin`);
    await heading('Sign in to the Gatehouse console');
    await page.getByLabel('Email address', { exact: true }).fill(operator);
    await page.getByLabel('Password').fill(OPERATOR_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading('Set up your authenticator app');
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await checkPage('sign-in-totp-setup');
    await page.getByLabel('Code').fill(new TOTP({ secret: Secret.fromBase32(secret) }).generate());
    await page.getByRole('button', { name: 'Continue' }).click();
    await heading('User pools');
  } finally {
    await gh.admin.send(new SetUserPoolMfaConfigCommand({ UserPoolId: userPoolId, MfaConfiguration: 'OFF', SoftwareTokenMfaConfiguration: { Enabled: true } }));
  }
});

test('an operator adds a passkey on their account page and signs in to the console with it', { skip }, async () => {
  const { userPoolId } = await consoleIds(gh);
  // The console's own pool, set up from the console: passkeys as a sign-in factor, bound to localhost.
  await page.goto(`${gh.url}/console/#/pools/${userPoolId}`);
  await heading('gatehouse-operators');
  await page.getByLabel('Passkey', { exact: true }).check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  await page.getByLabel('Passkeys: relying party').fill('localhost');
  await page.getByRole('button', { name: 'Save MFA settings' }).click();
  await page.getByText('MFA settings saved.').waitFor();

  // localhost, not 127.0.0.1: an IP address cannot be a relying party. A new context: a new tab's session.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const tab = await context.newPage();
  tab.on('pageerror', (e) => pageErrors.push(String(e)));
  const cdp = await context.newCDPSession(tab);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  try {
    await tab.goto(`http://localhost:${new URL(gh.url).port}/console/`);
    await tab.getByRole('heading', { level: 1, name: 'Sign in to the Gatehouse console' }).waitFor();
    await tab.getByLabel('Email address', { exact: true }).fill(operator);
    await tab.getByLabel('Password').fill(OPERATOR_PASSWORD);
    await tab.getByRole('button', { name: 'Sign in', exact: true }).click();
    await tab.getByRole('heading', { level: 1, name: 'User pools' }).waitFor();
    await tab.getByRole('link', { name: operator }).click();
    await tab.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    await tab.getByRole('button', { name: 'Add a passkey' }).click();
    await tab.getByText('Passkey added.').first().waitFor();
    await tab.getByRole('cell', { name: 'localhost' }).waitFor();
    const registered = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.equal(registered.length, 1);
    const previous = page;
    page = tab;
    await checkPage('account');
    page = previous;
    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByRole('heading', { level: 1, name: 'Sign in to the Gatehouse console' }).waitFor();
    await tab.getByLabel('Email address', { exact: true }).fill(operator);
    await tab.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await tab.getByRole('heading', { level: 1, name: 'User pools' }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials[0].signCount, registered[0].signCount + 1, 'the passkey signed the sign-in');
  } finally {
    await context.close();
  }
});

test('the console ran without a CSP violation or an uncaught error', { skip }, () => {
  assert.deepEqual(pageErrors, []);
});
