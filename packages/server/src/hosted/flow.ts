// One authorize request as it travels through the hosted endpoints and pages: its client, its
// checked parameters, and how it ends (a code or tokens at the redirect URI, or an error there).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CognitoError } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import { loadClient, type LoadedClient, type LoadedPool } from '../domain/pools.js';
import type { User } from '../domain/users.js';
import { checkAuthorize, implicitTokens, issueCode, OAuthError, registeredRedirect, startSsoSession, SSO_TTL_MS, type AuthorizeRequest } from '../domain/oauth.js';
import { operations, type RequestInfo } from '../wire/operations.js';
import { cognitoModel } from '../wire/model.js';
import { secretHash } from '../domain/signin/index.js';
import { pageHeaders, setCookie, withParams, type Params } from './http.js';
import { errorPage, type Look } from './views.js';

/** The parameters of /oauth2/authorize that the pages carry from one step to the next. */
export const AUTHORIZE_KEYS = [
  'client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce',
  'prompt', 'identity_provider', 'idp_identifier', 'login_hint', 'lang',
] as const;

/** Shown to the browser: no trusted redirect URI to send the app the error. */
export class PageError extends Error {
  constructor(message: string, readonly status = 400) { super(message); }
}

/** An authorize request refused after its redirect URI proved the client's: the app hears why there. */
export class AppRedirect extends Error {
  constructor(readonly oauth: OAuthError, readonly redirectUri: string, readonly state: string | undefined, readonly implicit: boolean) { super(oauth.description); }
}

export interface Flow { pool: LoadedPool; client: LoadedClient; req: AuthorizeRequest; carry: string; base: string }

/** The authorize parameters alone, as a query string, for links and form actions. */
export function carried(params: Params): string {
  const sp = new URLSearchParams();
  for (const k of AUTHORIZE_KEYS) if (params[k] !== undefined) sp.append(k, params[k]!);
  return sp.toString();
}

/** The pool a domain prefix names, if any: then the client must be that pool's. */
export async function poolOfDomain(ctx: Ctx, domain: string | undefined): Promise<string | undefined> {
  if (domain === undefined) return undefined;
  const row = await ctx.repo.getPoolDomain(domain);
  if (!row) throw new PageError('This domain does not exist.', 404);
  return row.pool_id;
}

export async function hostedClient(ctx: Ctx, clientId: string | undefined, domainPool?: string): Promise<{ pool: LoadedPool; client: LoadedClient }> {
  if (!clientId || !/^[\w+]{1,128}$/.test(clientId)) throw new PageError('client_id is missing or malformed.');
  try {
    const found = await loadClient(ctx, clientId);
    if (domainPool !== undefined && found.pool.id !== domainPool) throw new PageError('The client does not belong to this domain.');
    return found;
  } catch (e) {
    if (e instanceof CognitoError) throw new PageError('The client does not exist.');
    throw e;
  }
}

/**
 * An authorize request checked from its parameters (on every page: nothing is trusted from an
 * earlier step). Until its redirect URI is known to be the client's, errors are shown, not sent.
 */
export async function flowOf(ctx: Ctx, params: Params, base: string, domainPool?: string): Promise<Flow> {
  const { pool, client } = await hostedClient(ctx, params.client_id, domainPool);
  const redirectUri = registeredRedirect(client, params.redirect_uri);
  if (!redirectUri) throw new PageError('redirect_uri is missing or not registered for this client.');
  try {
    const req = checkAuthorize(client, params, redirectUri);
    const viaPool = req.idpIdentifier === undefined && (req.identityProvider === undefined || req.identityProvider === 'COGNITO');
    if (viaPool && !client.config.SupportedIdentityProviders?.includes('COGNITO')) {
      throw new OAuthError('unauthorized_client', 'The client does not allow sign-in with the user pool (COGNITO).');
    }
    return { pool, client, req, carry: carried(params), base };
  } catch (e) {
    if (e instanceof OAuthError) throw new AppRedirect(e, redirectUri, params.state, params.response_type === 'token');
    throw e;
  }
}

/** Sends the app an error at its redirect URI (only once that URI is known to be registered). */
export function redirectError(reply: FastifyReply, redirectUri: string, e: OAuthError, state: string | undefined, implicit = false) {
  pageHeaders(reply);
  return reply.redirect(withParams(redirectUri, { error: e.error, error_description: e.description, state }, implicit ? 'fragment' : 'query'), 302);
}

/** A refused request: shown (PageError) or sent to the app (AppRedirect); anything else goes on up. */
export function refuse(reply: FastifyReply, e: unknown) {
  if (e instanceof PageError) return showError(reply, e);
  if (e instanceof AppRedirect) return redirectError(reply, e.redirectUri, e.oauth, e.state, e.implicit);
  throw e;
}

export function showError(reply: FastifyReply, e: PageError, look?: Look) {
  pageHeaders(reply);
  return reply.code(e.status).type('text/html; charset=utf-8').send(errorPage(e.message, look));
}

export const ssoCookie = (pool: LoadedPool) => `gh_sso_${pool.id}`;

/** Hands the app what it asked for: a code (or tokens, implicit flow) at its redirect URI. */
export async function complete(ctx: Ctx, reply: FastifyReply, flow: Flow, user: User, authTime: number) {
  const { pool, client, req } = flow;
  pageHeaders(reply);
  if (req.responseType === 'code') {
    const code = await issueCode(ctx, pool, client, user, req, authTime);
    return reply.redirect(withParams(req.redirectUri, { code, state: req.state }), 302);
  }
  const t = await implicitTokens(ctx, pool, client, user, req, authTime);
  return reply.redirect(withParams(req.redirectUri, { id_token: t.IdToken, access_token: t.AccessToken, token_type: 'Bearer', expires_in: String(t.ExpiresIn), state: req.state }, 'fragment'), 302);
}

/** A user just signed in on the pages: their single sign-on session starts, then the app gets its answer. */
export async function signedIn(ctx: Ctx, request: FastifyRequest, reply: FastifyReply, flow: Flow, user: User) {
  const { token, authTime } = await startSsoSession(ctx, flow.pool, user);
  setCookie(reply, request, ssoCookie(flow.pool), token, { maxAgeS: SSO_TTL_MS / 1000 });
  return complete(ctx, reply, flow, user, authTime);
}

/**
 * The pages' sign-up, confirmation and recovery are the public operations themselves, checked by
 * the model and run by their handlers (limits, codes, events), as the app's own calls would be.
 */
export async function callOperation(ctx: Ctx, name: string, body: Record<string, unknown>, info: RequestInfo, client?: LoadedClient): Promise<any> {
  const op = operations.get(name);
  if (!op || op.signed) throw new Error(`no public operation ${name}`);
  if (client?.secret && typeof body.Username === 'string') body = { ...body, SecretHash: secretHash(client, body.Username) };
  return op.handler(ctx, cognitoModel().readInput(name, body as never) as object, info);
}
