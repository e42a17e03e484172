/**
 * Hosted sign-in (signInWithRedirect): authorization code with PKCE, as Amplify sends it. The
 * completion runs once per client: configure/createAuth start it when the page URL carries the
 * answer, the state is consumed before the code is exchanged (a second tab or a second configure
 * cannot spend it twice), and every API that reads tokens waits for it first.
 */
import type { Ctx } from './core.js';
import { AuthError, fail } from './errors.js';
import { assertNoLiveSession, signedIn } from './signin.js';
import { emit, stateKey } from './core.js';

export interface SignInWithRedirectInput {
  provider?: 'Amazon' | 'Apple' | 'Facebook' | 'Google' | { custom: string } | { idpIdentifier: string };
  customState?: string;
  options?: { lang?: string; loginHint?: string; nonce?: string; prompt?: 'NONE' | 'LOGIN' | 'CONSENT' | 'SELECT_ACCOUNT'; preferPrivateSession?: boolean };
}

const PROVIDERS: Record<string, string> = { Amazon: 'LoginWithAmazon', Apple: 'SignInWithApple', Facebook: 'Facebook', Google: 'Google' };

const b64url = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const random = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

function oauthConfig(ctx: Ctx) {
  const o = ctx.cfg.oauth;
  if (!o?.domain || !o.redirectSignIn?.length) fail('OAuthNotConfigureException', 'oauth param not configured.', 'Set loginWith.oauth (domain, scopes, redirectSignIn, redirectSignOut, responseType).');
  return o;
}
const origin = (domain: string) => (/^https?:\/\//.test(domain) ? domain : `https://${domain}`).replace(/\/+$/, '');
const here = () => (globalThis as { location?: Location }).location;

/** The redirect URL of this page's origin, or the first one configured. */
function pick(urls: string[]): string {
  const loc = here();
  return urls.find((u) => loc && u.startsWith(loc.origin)) ?? urls[0]!;
}

export async function signInWithRedirect(ctx: Ctx, input: SignInWithRedirectInput = {}): Promise<void> {
  const o = oauthConfig(ctx);
  if (!input.options?.prompt) await assertNoLiveSession(ctx);
  const p = input.provider;
  const provider = typeof p === 'string' ? PROVIDERS[p] : p && 'custom' in p ? p.custom : undefined;
  const state = random(32) + (input.customState ? '-' + b64url(new TextEncoder().encode(input.customState)) : '');
  const verifier = random(64);
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const redirectUri = pick(o.redirectSignIn);
  await ctx.storage.setItem(stateKey(ctx, 'oauthPending'), JSON.stringify({ state, verifier, redirectUri, customState: input.customState }));
  const q = new URLSearchParams({ redirect_uri: redirectUri, response_type: o.responseType, client_id: ctx.cfg.clientId });
  if (p && typeof p === 'object' && 'idpIdentifier' in p) q.set('idp_identifier', p.idpIdentifier);
  else if (provider || input.options?.prompt !== 'NONE') q.set('identity_provider', provider ?? 'COGNITO');
  q.set('scope', o.scopes.join(' '));
  const opt = input.options ?? {};
  if (opt.loginHint) q.set('login_hint', opt.loginHint);
  if (opt.lang) q.set('lang', opt.lang);
  if (opt.nonce) q.set('nonce', opt.nonce);
  if (opt.prompt) q.set('prompt', opt.prompt.toLowerCase());
  q.set('state', state);
  if (o.responseType === 'code') (q.set('code_challenge', challenge), q.set('code_challenge_method', 'S256'));
  await ctx.navigate(`${origin(o.domain)}/oauth2/authorize?${q}`);
}

/**
 * Finishes a redirect sign-in from `url` (default: this page). Answers false when the URL is not
 * the answer to a sign-in this client started. Single flight per client.
 */
export function completeRedirect(ctx: Ctx, url?: string): Promise<boolean> {
  const prior = ctx.redirect?.catch(() => {});
  const p = (async () => {
    await prior;
    const href = url ?? here()?.href;
    if (!href || !ctx.cfg.oauth) return false;
    const u = new URL(href);
    const q = new URLSearchParams(u.hash.slice(1));
    u.searchParams.forEach((v, k) => q.set(k, v));
    const state = q.get('state');
    if (!state || !(q.has('code') || q.has('error') || q.has('access_token'))) return false;
    const raw = await ctx.storage.getItem(stateKey(ctx, 'oauthPending'));
    const pending = raw ? JSON.parse(raw) : undefined;
    if (!pending) return false; // not ours, or already completed
    if (pending.state !== state) {
      // An answer while our flow is under way, with a state we did not send: forged (login CSRF) or
      // stale. Refused and reported; our own flow stays pending, its real answer may still come.
      emit(ctx, 'signInWithRedirect_failure', { error: new AuthError({ name: 'OAuthSignInException', message: 'The OAuth response state does not match the one this client sent.' }) });
      return false;
    }
    await ctx.storage.removeItem(stateKey(ctx, 'oauthPending'));
    const loc = here();
    if (loc && !url) (globalThis as { history?: History }).history?.replaceState(null, '', pending.redirectUri);
    try {
      if (q.has('error')) fail('OAuthSignInException', q.get('error_description') ?? q.get('error')!);
      let tokens: any = Object.fromEntries(q);
      if (q.has('code')) {
        const res = await ctx.fetch(`${origin(ctx.cfg.oauth.domain)}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: q.get('code')!, client_id: ctx.cfg.clientId, redirect_uri: pending.redirectUri, code_verifier: pending.verifier }).toString(),
        });
        tokens = await res.json();
      }
      if (tokens.error || !tokens.access_token) fail('OAuthSignInException', tokens.error_message ?? tokens.error ?? 'The token endpoint returned no tokens.');
      const user = await signedIn(ctx, { AccessToken: tokens.access_token, IdToken: tokens.id_token, RefreshToken: tokens.refresh_token }, undefined, true); // Amplify keeps no sign-in details for a redirect
      emit(ctx, 'signInWithRedirect', user);
      if (pending.customState) emit(ctx, 'customOAuthState', pending.customState);
      return true;
    } catch (error) {
      emit(ctx, 'signInWithRedirect_failure', { error });
      throw error;
    }
  })();
  ctx.redirect = p;
  return p;
}

/** After local sign-out of a redirect sign-in, end the hosted session too. */
export function oauthSignOut(ctx: Ctx) {
  const o = ctx.cfg.oauth;
  if (!o?.domain || !o.redirectSignOut?.length) return;
  const q = new URLSearchParams({ client_id: ctx.cfg.clientId, logout_uri: pick(o.redirectSignOut) });
  return ctx.navigate(`${origin(o.domain)}/logout?${q}`);
}
