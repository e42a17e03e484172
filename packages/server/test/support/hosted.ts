// Helpers for the hosted sign-in tests: a cookie-keeping HTTP walker (a browser without a page
// engine), PKCE values, form scraping, and a pool with an OAuth app client.
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, CreateUserPoolClientCommand, type CreateUserPoolClientCommandInput } from '@aws-sdk/client-cognito-identity-provider';
import { createPoolAndClient, uniqueEmail, type Gatehouse } from './harness.js';

export const APP = 'https://app.example.com';
export const CALLBACK = `${APP}/callback`;
export const SIGNED_OUT = `${APP}/signed-out`;
export const PASSWORD = 'Correct-Horse-9';

/** An app client that may use the hosted sign-in (code and implicit flows, the pool's directory). */
export const oauthClient = (o: Partial<CreateUserPoolClientCommandInput> = {}): Partial<CreateUserPoolClientCommandInput> => ({
  AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: ['code', 'implicit'],
  AllowedOAuthScopes: ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'],
  CallbackURLs: [CALLBACK], LogoutURLs: [SIGNED_OUT], SupportedIdentityProviders: ['COGNITO'], ...o,
});

export async function oauthPool(gh: Gatehouse, client: Partial<CreateUserPoolClientCommandInput> = {}) {
  return createPoolAndClient(gh, {}, oauthClient(client));
}

export async function anotherClient(gh: Gatehouse, poolId: string, o: Partial<CreateUserPoolClientCommandInput> = {}) {
  const { UserPoolClient } = await gh.admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'other', ...oauthClient(o) } as CreateUserPoolClientCommandInput));
  return { clientId: UserPoolClient!.ClientId!, secret: UserPoolClient!.ClientSecret };
}

/** A confirmed user with a permanent password. */
export async function confirmedUser(gh: Gatehouse, poolId: string, password = PASSWORD) {
  const email = uniqueEmail();
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: email, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] }));
  await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: email, Password: password, Permanent: true }));
  return email;
}

export function pkce() {
  const verifier = crypto.randomBytes(48).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export interface Answer { status: number; location?: string; text: string; headers: Headers; url: string }

/** Follows nothing by itself; keeps cookies per host, as a browser would. */
export class Walker {
  cookies = new Map<string, string>();
  constructor(readonly base: string) {}
  private cookieHeader() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  private keep(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const [k, v] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (attrs.some((a) => /max-age=0/i.test(a.trim())) || v === '') this.cookies.delete(k.trim());
      else this.cookies.set(k.trim(), v);
    }
  }
  async get(path: string): Promise<Answer> {
    const url = path.startsWith('http') ? path : this.base + path;
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
    this.keep(res);
    return { status: res.status, location: res.headers.get('location') ?? undefined, text: await res.text(), headers: res.headers, url };
  }
  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    const url = path.startsWith('http') ? path : this.base + path;
    const res = await fetch(url, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    this.keep(res);
    return { status: res.status, location: res.headers.get('location') ?? undefined, text: await res.text(), headers: res.headers, url };
  }
  /** Follows redirects anywhere (an identity provider too) until a page answers or one goes to `stopAt`. */
  async followAll(a: Answer, stopAt: string): Promise<Answer> {
    for (let i = 0; i < 20 && [301, 302, 303, 307].includes(a.status) && a.location && !a.location.startsWith(stopAt); i++) {
      const next = a.location.startsWith('/') ? new URL(a.location, a.url).href : a.location;
      a = await this.get(next);
    }
    return a;
  }
  /** Follows redirects on this server until a page answers or one leaves for another host. */
  async follow(a: Answer): Promise<Answer> {
    while (a.status === 302 && a.location && (a.location.startsWith('/') || a.location.startsWith(this.base))) a = await this.get(a.location);
    return a;
  }
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first form of a page (or the one whose action contains `actionPart`): its action and hidden fields. */
export function formOn(html: string, actionPart = ''): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const f = forms.find((m) => decode(m[1]).includes(actionPart));
  assert.ok(f, `no form with action ${actionPart} in:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const m of f[2].matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\s*\/?>/g)) fields[decode(m[1])] = decode(m[2]);
  return { action: decode(f[1]), fields };
}

export function authorizeUrl(clientId: string, o: Record<string, string | undefined> = {}) {
  const sp = new URLSearchParams();
  const all: Record<string, string | undefined> = { response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope: 'openid email profile aws.cognito.signin.user.admin', state: 'st-' + crypto.randomUUID(), ...o };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) sp.append(k, v);
  return `/oauth2/authorize?${sp}`;
}

/** authorize -> login page -> sign in; answers where the server sent the browser afterwards. */
export async function signInOnPage(w: Walker, clientId: string, username: string, password: string, o: Record<string, string | undefined> = {}) {
  const page = await w.follow(await w.get(authorizeUrl(clientId, o)));
  assert.equal(page.status, 200, page.text.slice(0, 500));
  const f = formOn(page.text, '/login');
  return w.post(f.action, { ...f.fields, username, password });
}

/** The code (and state) a redirect to the callback carries. */
export function callbackParams(location: string | undefined) {
  assert.ok(location, 'expected a redirect');
  const u = new URL(location);
  return Object.fromEntries(u.searchParams) as Record<string, string>;
}

export async function token(base: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/oauth2/token`, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  return { status: res.status, json: (await res.json()) as Record<string, any>, headers: res.headers };
}

export const basic = (id: string, secret: string) => ({ authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64') });

export const jwtPayload = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
