// Helpers for the admin console's tests: inviting an operator with the CLI (as an operator would),
// reading the temporary password from the invitation, signing in to the system pool with SRP, and
// calling the admin operations as the console does (bearer token, the console's header, an Origin).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuth, memoryStorage } from '@gatehouse/auth';
import type { Gatehouse, MailCatcher } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const cliMain = path.resolve(here, '../../dist/cli.js');
export const OPERATOR_PASSWORD = 'Operator-Passw0rd-1';

/** Runs `gatehouse <args>` in the server's environment (its data directory, database and master key). */
export function runCli(gh: Gatehouse, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cliMain, ...args], { env: { ...process.env, ...gh.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The console's settings, as the browser reads them. */
export async function consoleIds(gh: Gatehouse): Promise<{ userPoolId: string; userPoolClientId: string }> {
  const res = await fetch(`${gh.url}/console/config.json`);
  if (!res.ok) throw new Error(`config.json: ${res.status}`);
  return res.json() as Promise<{ userPoolId: string; userPoolClientId: string }>;
}

/** Invites `email` with the CLI and answers the temporary password from the invitation mail. */
export async function inviteOperator(gh: Gatehouse, mail: MailCatcher, email: string): Promise<string> {
  const since = Date.now();
  const out = await runCli(gh, ['console', 'add-operator', email]);
  if (out.code !== 0) throw new Error(`add-operator failed (${out.code}): ${out.stderr}${out.stdout}`);
  const m = await mail.next(email, since, 20_000);
  const match = /temporary password (\S+) within/.exec(m.text);
  if (!match) throw new Error(`no temporary password in: ${m.text}`);
  return match[1];
}

/** Signs in to the console's pool with SRP (setting `newPassword` if the invitation's must be replaced); answers the access token. */
export async function operatorToken(gh: Gatehouse, email: string, password: string, newPassword = OPERATOR_PASSWORD): Promise<string> {
  const { userPoolId, userPoolClientId } = await consoleIds(gh);
  const auth = createAuth({ Auth: { Cognito: { userPoolId, userPoolClientId, userPoolEndpoint: gh.url } } }, { storage: memoryStorage() });
  let out = await auth.signIn({ username: email, password });
  if (out.nextStep.signInStep === 'CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED') out = await auth.confirmSignIn({ challengeResponse: newPassword });
  if (!out.isSignedIn) throw new Error(`sign-in stopped at ${out.nextStep.signInStep}`);
  return (await auth.fetchAuthSession()).tokens!.accessToken.toString();
}

/** A Cognito operation as the console calls it; `headers` replaces or removes (undefined) the console's. */
export async function consoleCall(gh: Gatehouse, token: string, operation: string, input: object, headers: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = {
    'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    authorization: `Bearer ${token}`, 'x-gatehouse-console': '1', origin: gh.url, ...headers,
  };
  const res = await fetch(gh.url, { method: 'POST', body: JSON.stringify(input), headers: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string> });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: text ? JSON.parse(text) : undefined, wwwAuthenticate: res.headers.get('www-authenticate') };
}

/** One of the console's read-only views. */
export async function consoleView(gh: Gatehouse, token: string, pathAndQuery: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gh.url}/console/api/${pathAndQuery}`, { headers: { authorization: `Bearer ${token}`, 'x-gatehouse-console': '1', ...headers } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: text ? JSON.parse(text) : undefined };
}
