// Sign-in through an external identity provider: the authorize request goes there (OpenID Connect
// with openid-client, SAML 2.0 with node-saml, or plain OAuth 2.0 for Facebook and Login with
// Amazon) and comes back to /oauth2/idpresponse or /saml2/idpresponse, where the provider's answer
// is checked, the federated user found or made, and the app gets its code as after the pages.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { Ctx } from '../domain/context.js';
import { OAuthError } from '../domain/oauth.js';
import { HOSTED_FLOW } from '../domain/signin/index.js';
import { createSession, openSession, consumeSession, sessionIdOf, type SessionState } from '../domain/sessions.js';
import { loadClient } from '../domain/pools.js';
import { federatedUser, loadProvider, providerByIdentifier, SUBJECT_CLAIM, type Provider, type ProviderSignIn } from '../domain/federation.js';
import { postAuthentication } from '../domain/triggers/events.js';
import { parseSamlMetadata } from '../domain/saml-metadata.js';
import { cookiesOf, formOf, isSecure, pageHeaders, queryOf, setCookie, clearCookie, withParams } from './http.js';
import { AppRedirect, flowOf, PageError, redirectError, refuse, signedIn, type Flow } from './flow.js';

/** What the round trip through a provider remembers (a single-use session, sealed in the store). */
interface FederationState extends SessionState {
  challenge: 'FEDERATION';
  provider: string; carry: string; base: string; returnTo: string;
  verifier: string; nonce: string; samlRequestId?: string;
}

const ROUND_TRIP_MS = 10 * 60e3;
// The round trip is bound to the browser that started it: a callback another browser brings (a
// login CSRF: the attacker's own provider sign-in pushed on a victim) is refused.
const BINDING_COOKIE = 'gh_fed';
const SP_ENTITY = (poolId: string) => `urn:amazon:cognito:sp:${poolId}`;

const origin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;
const fail = (why: string) => new OAuthError('invalid_request', why);

export async function startFederation(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, flow: Flow) {
  const { pool, client, req: ar } = flow;
  const provider = ar.idpIdentifier !== undefined
    ? await providerByIdentifier(ctx, pool.id, ar.idpIdentifier)
    : (await ctx.repo.getIdentityProvider(pool.id, ar.identityProvider!)) && (await loadProvider(ctx, pool.id, ar.identityProvider!));
  if (!provider || !client.config.SupportedIdentityProviders?.includes(provider.name)) {
    return redirectError(reply, ar.redirectUri, fail('The identity provider does not exist or is not allowed for this client.'), ar.state, ar.responseType === 'token');
  }
  const state: FederationState = {
    challenge: 'FEDERATION', flow: HOSTED_FLOW, provider: provider.name, carry: flow.carry, base: flow.base,
    returnTo: `${origin(req)}${flow.base}${provider.type === 'SAML' ? '/saml2/idpresponse' : '/oauth2/idpresponse'}`,
    verifier: oidc.randomPKCECodeVerifier(), nonce: oidc.randomNonce(),
  };
  try {
    let target: string;
    if (provider.type === 'SAML') {
      state.samlRequestId = '_' + crypto.randomBytes(20).toString('hex');
      const token = await createSession(ctx, pool, client, state, ROUND_TRIP_MS);
      target = await samlFor(provider, state.returnTo, state.samlRequestId).getAuthorizeUrlAsync(token, req.host, {});
      bind(ctx, req, reply, token);
    } else {
      const token = await createSession(ctx, pool, client, state, ROUND_TRIP_MS);
      target = isOidc(provider) ? await oidcAuthorizeUrl(provider, state, token) : oauth2AuthorizeUrl(provider, state, token);
      bind(ctx, req, reply, token);
    }
    pageHeaders(reply);
    return reply.redirect(target, 302);
  } catch (e) {
    ctx.log.warn('identity provider unreachable', { provider: provider.name, error: String((e as Error)?.message ?? e) });
    return redirectError(reply, ar.redirectUri, new OAuthError('temporarily_unavailable', 'The identity provider could not be reached.'), ar.state, ar.responseType === 'token');
  }
}

function bind(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, token: string) {
  // SAML answers with a cross-site POST, which only SameSite=None cookies (Secure) reach.
  setCookie(reply, req, BINDING_COOKIE, ctx.secrets.mac('federation', token), { maxAgeS: ROUND_TRIP_MS / 1000, sameSite: isSecure(req) ? 'None' : 'Lax' });
}

/** The round trip a callback's state names: opened, checked against the browser, spent once. */
async function roundTrip(ctx: Ctx, req: FastifyRequest, token: string | undefined) {
  if (!token || token.length > 512) throw new PageError('The sign-in request is missing or has expired. Start again from the application.');
  const row = await ctx.repo.getSession(sessionIdOf(token));
  if (!row) throw new PageError('The sign-in request is missing or has expired. Start again from the application.');
  const { pool, client } = await loadClient(ctx, row.client_id);
  const s = await openSession(ctx, client, token).catch(() => { throw new PageError('The sign-in request has expired. Start again from the application.'); });
  const state = s.state as FederationState;
  if (state.challenge !== 'FEDERATION' || state.flow !== HOSTED_FLOW) throw new PageError('This is not a sign-in request.');
  const bound = cookiesOf(req)[BINDING_COOKIE];
  if (!bound || bound !== ctx.secrets.mac('federation', token)) throw new PageError('This sign-in was started in another browser. Start again from the application.');
  await consumeSession(ctx, s).catch(() => { throw new PageError('This sign-in request was already used.'); });
  const flow = await flowOf(ctx, Object.fromEntries(new URLSearchParams(state.carry)), state.base, pool.id);
  const provider = await loadProvider(ctx, pool.id, state.provider);
  return { pool, client, state, flow, provider };
}

/**
 * A provider's answer, at either return endpoint: the round trip it belongs to, what `read` makes
 * of it (who signed in), the user they sign in as, PostAuthentication (a provider's sign-in is an
 * authentication as the pages' are, and may be refused), then back to the app.
 */
async function providerAnswered(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, relayState: string | undefined,
  read: (trip: Awaited<ReturnType<typeof roundTrip>>) => Promise<ProviderSignIn>) {
  let trip;
  try {
    trip = await roundTrip(ctx, req, relayState);
  } catch (e) {
    return refuse(reply, e);
  }
  clearCookie(reply, req, BINDING_COOKIE);
  const { flow, provider, pool } = trip;
  try {
    const user = await federatedUser({ ...ctx, ip: req.ip }, pool, provider, await read(trip), flow.client.id);
    await postAuthentication(ctx, pool, user, flow.client.id);
    return await signedIn(ctx, req, reply, flow, user);
  } catch (e) {
    return federationFailed(ctx, reply, flow, provider, e);
  }
}

export function registerFederation(app: FastifyInstance, ctx: Ctx, base: string) {
  app.get(`${base}/oauth2/idpresponse`, async (req, reply) => {
    const { params } = queryOf(req);
    return providerAnswered(ctx, req, reply, params.state, async ({ state, provider }) => {
      if (params.error) throw fail(`The identity provider answered ${params.error}${params.error_description ? `: ${params.error_description}` : ''}`);
      return isOidc(provider)
        ? oidcCallback(provider, state, params.state!, `${state.returnTo}?${queryOf(req).raw}`)
        : oauth2Callback(provider, state, params.code);
    });
  });

  app.post(`${base}/saml2/idpresponse`, async (req, reply) => {
    const form = formOf(req).params;
    return providerAnswered(ctx, req, reply, form.RelayState, async ({ state, provider, pool }) => {
      if (provider.type !== 'SAML' || !form.SAMLResponse) throw fail('A SAML response was expected.');
      return samlCallback(ctx, pool.id, provider, state, form.SAMLResponse);
    });
  });
}

/** A provider's answer that did not hold: the app hears it at its redirect URI, the log says why. */
function federationFailed(ctx: Ctx, reply: FastifyReply, flow: Flow, provider: Provider, e: unknown) {
  if (e instanceof AppRedirect || e instanceof PageError) return refuse(reply, e);
  // openid-client names the ID token claim that failed a few causes down (iss, aud, nonce, ...).
  let claim: string | undefined;
  for (let c: any = e, i = 0; c && i < 4 && !claim; c = c.cause, i++) claim = typeof c.claim === 'string' ? c.claim : undefined;
  const why = e instanceof OAuthError ? e.description : `${String((e as Error)?.message ?? e)}${claim ? ` (${claim})` : ''}`;
  ctx.log.warn('federated sign-in refused', { provider: provider.name, reason: why.slice(0, 200) });
  const shown = e instanceof OAuthError ? e : fail(`The identity provider's answer was refused: ${why.slice(0, 200)}`);
  return redirectError(reply, flow.req.redirectUri, shown, flow.req.state, flow.req.responseType === 'token');
}

// ---------------------------------------------------------------- OpenID Connect (OIDC, Google, Apple)

const isOidc = (p: Provider) => p.type === 'OIDC' || p.type === 'Google' || p.type === 'SignInWithApple';

// Discovered configurations, per provider version (an update changes updatedAt).
const configs = new Map<string, Promise<oidc.Configuration>>();

function oidcConfig(p: Provider): Promise<oidc.Configuration> {
  const key = `${p.poolId}\u0000${p.name}\u0000${p.updatedAt}`;
  let c = configs.get(key);
  if (!c) {
    const d = p.details;
    const insecure = new URL(d.oidc_issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined;
    const secret = p.type === 'SignInWithApple' ? appleClientSecret(d) : d.client_secret;
    const auth = secret ? oidc.ClientSecretPost(secret) : oidc.None();
    // Endpoints given in ProviderDetails (or by a preset) are used as given; else the issuer's discovery document.
    c = d.authorize_url && d.token_url && d.jwks_uri
      ? Promise.resolve(new oidc.Configuration({
        issuer: d.oidc_issuer, authorization_endpoint: d.authorize_url, token_endpoint: d.token_url, jwks_uri: d.jwks_uri,
        ...(d.attributes_url ? { userinfo_endpoint: d.attributes_url } : {}),
      }, d.client_id, undefined, auth)).then((cfg) => { if (insecure) oidc.allowInsecureRequests(cfg); return cfg; })
      : oidc.discovery(new URL(d.oidc_issuer), d.client_id, undefined, auth, { ...insecure, timeout: 5 });
    c.catch(() => configs.delete(key));
    configs.set(key, c);
  }
  return c;
}

async function oidcAuthorizeUrl(p: Provider, state: FederationState, token: string): Promise<string> {
  const config = await oidcConfig(p);
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: state.returnTo, scope: scopesOf(p), state: token, nonce: state.nonce, response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(state.verifier), code_challenge_method: 'S256',
    ...(p.type === 'SignInWithApple' ? { response_mode: 'query' } : {}),
  }).href;
}

/**
 * The code exchanged by openid-client, which checks the ID token: signature (the issuer's JWKS),
 * issuer, audience (our client_id), expiry, nonce; then the provider's userinfo, if it has one.
 */
async function oidcCallback(p: Provider, state: FederationState, token: string, currentUrl: string) {
  const config = await oidcConfig(p);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(currentUrl), {
    pkceCodeVerifier: state.verifier, expectedState: token, expectedNonce: state.nonce, idTokenExpected: true,
  });
  const idClaims = tokens.claims()!;
  let info: Record<string, unknown> = {};
  if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
    info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub).catch(() => ({}));
  }
  return {
    subject: String(idClaims.sub), claims: { ...info, ...idClaims } as Record<string, unknown>,
    answer: { tokenResponse: tokenResponseOf(tokens), idToken: { ...idClaims }, ...(config.serverMetadata().userinfo_endpoint ? { userInfo: info } : {}) },
  } satisfies ProviderSignIn;
}

/** The /token response's members InboundFederation passes on (Cognito passes the tokens too). */
function tokenResponseOf(t: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['access_token', 'id_token', 'refresh_token', 'token_type', 'expires_in', 'scope']) if (t[k] !== undefined) out[k] = t[k];
  return out;
}

const scopesOf = (p: Provider) => p.details.authorize_scopes.split(/[\s,]+/).filter(Boolean).join(' ');

/** Sign in with Apple's client secret: a short ES256 JWT signed with the team's key. */
function appleClientSecret(d: Record<string, string>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'ES256', kid: d.key_id })}.${b64({ iss: d.team_id, iat: now, exp: now + 3600, aud: 'https://appleid.apple.com', sub: d.client_id })}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: d.private_key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

// ---------------------------------------------------------------- plain OAuth 2.0 (Facebook, Login with Amazon)

function oauth2AuthorizeUrl(p: Provider, state: FederationState, token: string): string {
  return withParams(p.details.authorize_url, { client_id: p.details.client_id, redirect_uri: state.returnTo, response_type: 'code', scope: scopesOf(p), state: token });
}

async function oauth2Callback(p: Provider, state: FederationState, code: string | undefined) {
  if (!code) throw fail('The identity provider sent no code.');
  const res = await fetch(p.details.token_url, {
    method: 'POST', signal: AbortSignal.timeout(5000), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: state.returnTo, client_id: p.details.client_id, client_secret: p.details.client_secret }),
  });
  const t = await res.json().catch(() => ({})) as { access_token?: string } & Record<string, unknown>;
  if (!res.ok || !t.access_token) throw fail('The identity provider refused the code.');
  const info = await fetch(p.details.attributes_url, { signal: AbortSignal.timeout(5000), headers: { authorization: `Bearer ${t.access_token}`, accept: 'application/json' } });
  const claims = await info.json().catch(() => ({})) as Record<string, unknown>;
  const subject = claims[SUBJECT_CLAIM[p.type]];
  if (!info.ok || subject === undefined) throw fail('The identity provider named no user.');
  return { subject: String(subject), claims, answer: { tokenResponse: tokenResponseOf(t), userInfo: claims } } satisfies ProviderSignIn;
}

// ---------------------------------------------------------------- SAML 2.0

function samlFor(p: Provider, acs: string, requestId: string): SAML {
  const meta = parseSamlMetadata(p.details.MetadataFile);
  return new SAML({
    callbackUrl: acs, entryPoint: meta.ssoUrl, issuer: SP_ENTITY(p.poolId), audience: SP_ENTITY(p.poolId), idpIssuer: meta.entityId,
    idpCert: meta.certs.map((c) => `-----BEGIN CERTIFICATE-----\n${c.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`),
    // Assertions must be signed (the response may be too); InResponseTo is checked below against the store.
    wantAssertionsSigned: true, wantAuthnResponseSigned: false, validateInResponseTo: ValidateInResponseTo.never,
    acceptedClockSkewMs: 60_000, maxAssertionAgeMs: 5 * 60_000, generateUniqueId: () => requestId,
    identifierFormat: null, disableRequestedAuthnContext: true, signatureAlgorithm: 'sha256',
  });
}

type Parsed = { $?: Record<string, string> } & Record<string, any>;

/**
 * node-saml checks the signature (the metadata's certificates), the audience and the time
 * conditions. Here: the response answers our request (InResponseTo), was meant for this endpoint
 * (Destination, Recipient), comes from the provider's entity, and its assertion is used only once.
 */
async function samlCallback(ctx: Ctx, poolId: string, p: Provider, state: FederationState, response: string) {
  const saml = samlFor(p, state.returnTo, state.samlRequestId!);
  const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: response });
  if (!profile) throw fail('The SAML response carried no assertion.');
  if (profile.inResponseTo !== state.samlRequestId) throw fail('The SAML response does not answer this sign-in request.');
  const responseXml = Buffer.from(response, 'base64').toString('utf8');
  const destination = /<(?:\w+:)?Response\b[^>]*\sDestination="([^"]*)"/.exec(responseXml)?.[1];
  if (destination !== undefined && destination !== state.returnTo) throw fail('The SAML response was sent to another endpoint.');
  const assertion = (profile.getAssertion?.() as { Assertion: Parsed } | undefined)?.Assertion;
  const confirmation: Parsed | undefined = assertion?.Subject?.[0]?.SubjectConfirmation?.[0]?.SubjectConfirmationData?.[0];
  if (!confirmation?.$?.Recipient || confirmation.$.Recipient !== state.returnTo) throw fail('The SAML assertion names another recipient.');
  if (confirmation.$.InResponseTo !== undefined && confirmation.$.InResponseTo !== state.samlRequestId) throw fail('The SAML assertion does not answer this sign-in request.');
  const meta = parseSamlMetadata(p.details.MetadataFile);
  if (profile.issuer !== meta.entityId) throw fail('The SAML assertion comes from another issuer.');
  const id = assertion?.$?.ID;
  if (!id || !(await ctx.repo.useOnce(`saml:${poolId}:${p.name}:${id}`, ctx.now() + 24 * 3600e3))) throw fail('The SAML assertion was already used.');
  if (!profile.nameID) throw fail('The SAML assertion names no subject.');
  const attributes = { ...(profile.attributes as Record<string, unknown> | undefined) };
  return { subject: profile.nameID, claims: { ...attributes, NameID: profile.nameID }, answer: { samlResponse: attributes } } satisfies ProviderSignIn;
}
