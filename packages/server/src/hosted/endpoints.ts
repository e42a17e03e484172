// The OAuth 2.0 / OpenID Connect endpoints: /oauth2/authorize, /oauth2/token, /oauth2/userInfo,
// /oauth2/revoke, /logout and the pool's openid-configuration.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ResourceNotFoundException } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import { loadClient, type LoadedClient, type LoadedPool } from '../domain/pools.js';
import { safeEqual } from '../domain/secrets.js';
import {
  clientCredentialsGrant, endSsoSession, OAuthError, redeemCode, refreshGrant, registeredLogout, revoke, ssoUser, userInfo, STANDARD_SCOPES,
} from '../domain/oauth.js';
import { throttle } from '../domain/limits.js';
import { clearCookie, cookiesOf, formOf, pageHeaders, queryOf } from './http.js';
import { complete, flowOf, hostedClient, PageError, poolOfDomain, redirectError, refuse, showError, ssoCookie } from './flow.js';
import { startFederation } from './federation.js';

type Req = FastifyRequest<{ Params: { domain?: string } }>;

function oauthJson(reply: FastifyReply, e: OAuthError) {
  if (e.status === 401) reply.header('www-authenticate', e.error === 'invalid_client' ? 'Basic realm="token"' : `Bearer error="${e.error}"`);
  return reply.code(e.status).header('cache-control', 'no-store').send({ error: e.error, error_description: e.description });
}

/**
 * Who calls the token and revoke endpoints: Basic auth (client_secret_basic) or client_id and
 * client_secret in the form (client_secret_post); a client with a secret must prove it.
 */
async function authenticateClient(ctx: Ctx, req: FastifyRequest, form: Record<string, string | undefined>): Promise<{ pool: LoadedPool; client: LoadedClient }> {
  let id = form.client_id, secret = form.client_secret;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw new OAuthError('invalid_client', 'Malformed Basic credentials.', 401);
    // RFC 6749 section 2.3.1: both halves are form-encoded.
    const basicId = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), basicSecret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
    if (id !== undefined && id !== basicId) throw new OAuthError('invalid_client', 'client_id differs from the Basic credentials.', 401);
    id = basicId;
    secret = basicSecret;
  }
  if (!id || !/^[\w+]{1,128}$/.test(id)) throw new OAuthError('invalid_client', 'client_id is missing.', 401);
  let found;
  try { found = await loadClient(ctx, id); } catch { throw new OAuthError('invalid_client', 'Unknown client.', 401); }
  const expected = found.client.secret;
  if (expected ? !secret || !safeEqual(secret, expected) : secret) throw new OAuthError('invalid_client', 'Client authentication failed.', 401);
  return found;
}

export function registerEndpoints(app: FastifyInstance, ctx: Ctx, base: string) {
  app.get(`${base}/oauth2/authorize`, async (req: Req, reply) => {
    const { params, repeated } = queryOf(req);
    const domainPool = await poolOfDomain(ctx, req.params.domain).catch((e) => e);
    if (domainPool instanceof PageError) return showError(reply, domainPool);
    let flow;
    try {
      if (repeated) throw new PageError(`The parameter ${repeated} was given more than once.`);
      flow = await flowOf(ctx, params, prefix(req), domainPool);
    } catch (e) {
      return refuse(reply, e);
    }
    const { req: ar, pool } = flow;
    if (ar.identityProvider !== undefined && ar.identityProvider !== 'COGNITO' || ar.idpIdentifier !== undefined) {
      return startFederation(ctx, req, reply, flow);
    }
    const prompt = ar.prompt?.split(' ') ?? [];
    if (!prompt.includes('login')) {
      const sso = await ssoUser(ctx, pool, cookiesOf(req)[ssoCookie(pool)]);
      if (sso) return complete(ctx, reply, flow, sso.user, sso.authTime);
    }
    if (prompt.includes('none')) return redirectError(reply, ar.redirectUri, new OAuthError('login_required', 'The user is not signed in.'), ar.state, ar.responseType === 'token');
    pageHeaders(reply);
    return reply.redirect(`${flow.base}/login?${flow.carry}`, 302);
  });

  app.post(`${base}/oauth2/token`, async (req: Req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    try {
      const { params: form, repeated } = formOf(req);
      if (repeated) throw new OAuthError('invalid_request', `The parameter ${repeated} was given more than once.`);
      const { pool, client } = await authenticateClient(ctx, req, form);
      await onDomain(ctx, req, pool);
      switch (form.grant_type) {
        case 'authorization_code':
          await throttle({ ...ctx, ip: req.ip }, client.id, ['signIn']);
          return reply.send(await redeemCode(ctx, pool, client, { code: form.code, redirectUri: form.redirect_uri, verifier: form.code_verifier }));
        case 'refresh_token':
          return reply.send(await refreshGrant(ctx, pool, client, form.refresh_token));
        case 'client_credentials':
          return reply.send(await clientCredentialsGrant(ctx, pool, client, form.scope));
        default:
          throw new OAuthError(form.grant_type ? 'unsupported_grant_type' : 'invalid_request', form.grant_type ? `Unsupported grant_type ${form.grant_type}.` : 'grant_type is required.');
      }
    } catch (e) {
      if (e instanceof OAuthError) return oauthJson(reply, e);
      throw e;
    }
  });

  const userInfoRoute = async (req: Req, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const auth = req.headers.authorization;
    try {
      if (!auth?.startsWith('Bearer ')) throw new OAuthError('invalid_token', 'A Bearer access token is required.', 401);
      return reply.send(await userInfo(ctx, auth.slice(7).trim()));
    } catch (e) {
      if (e instanceof OAuthError) return oauthJson(reply, e);
      // A refused token (expired, revoked, forged) is a NotAuthorizedException from the token service.
      if ((e as Error)?.name === 'NotAuthorizedException') return oauthJson(reply, new OAuthError('invalid_token', (e as Error).message, 401));
      throw e;
    }
  };
  app.get(`${base}/oauth2/userInfo`, userInfoRoute);
  app.post(`${base}/oauth2/userInfo`, userInfoRoute);

  app.post(`${base}/oauth2/revoke`, async (req: Req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const { params: form } = formOf(req);
      const { pool, client } = await authenticateClient(ctx, req, form);
      await onDomain(ctx, req, pool);
      if (form.token_type_hint === 'access_token') throw new OAuthError('unsupported_token_type', 'Only refresh tokens can be revoked.');
      await revoke(ctx, client, form.token);
      return reply.send({});
    } catch (e) {
      if (e instanceof OAuthError) return oauthJson(reply, e);
      throw e;
    }
  });

  // /logout?client_id&logout_uri ends the managed login's session and returns to a registered sign-out
  // URL; /logout?client_id&redirect_uri&response_type... ends it and shows the sign-in page again.
  app.get(`${base}/logout`, async (req: Req, reply) => {
    const { params } = queryOf(req);
    try {
      const domainPool = await poolOfDomain(ctx, req.params.domain);
      const { pool, client } = await hostedClient(ctx, params.client_id, domainPool);
      const target = params.logout_uri !== undefined ? registeredLogout(client, params.logout_uri) : undefined;
      if (params.logout_uri !== undefined && !target) throw new PageError('logout_uri is not registered for this client.');
      if (!target && (params.redirect_uri === undefined || params.response_type === undefined)) throw new PageError('logout_uri, or redirect_uri and response_type, are required.');
      const name = ssoCookie(pool);
      await endSsoSession(ctx, cookiesOf(req)[name]);
      clearCookie(reply, req, name);
      pageHeaders(reply);
      if (target) return reply.redirect(target, 302);
      const sp = new URLSearchParams(queryOf(req).raw);
      sp.delete('logout_uri');
      return reply.redirect(`${prefix(req)}/login?${sp}`, 302);
    } catch (e) {
      if (e instanceof PageError) return showError(reply, e);
      throw e;
    }
  });
}

/** The path prefix a request came under: '' at the root, '/<domain>' under a domain prefix. */
export const prefix = (req: Req) => (req.params.domain !== undefined ? `/${encodeURIComponent(req.params.domain)}` : '');

async function onDomain(ctx: Ctx, req: Req, pool: LoadedPool) {
  const domainPool = await poolOfDomain(ctx, req.params.domain).catch(() => null);
  if (domainPool === null || (domainPool !== undefined && domainPool !== pool.id)) throw new OAuthError('invalid_client', 'The client does not belong to this domain.', 401);
}

/** `/<poolId>/.well-known/openid-configuration`: where everything is, and what is supported. */
export function registerDiscovery(app: FastifyInstance, ctx: Ctx) {
  app.get('/:poolId/.well-known/openid-configuration', async (req, reply) => {
    const { poolId } = req.params as { poolId: string };
    if (!(await ctx.repo.getPool(poolId))) throw new ResourceNotFoundException('User pool does not exist.');
    const iss = ctx.tokens.issuer(poolId);
    const domain = await ctx.repo.getDomainOfPool(poolId);
    const at = ctx.config.publicUrl + (domain ? `/${encodeURIComponent(domain.domain)}` : '');
    return reply.header('cache-control', 'public, max-age=300').send({
      issuer: iss,
      authorization_endpoint: `${at}/oauth2/authorize`,
      token_endpoint: `${at}/oauth2/token`,
      userinfo_endpoint: `${at}/oauth2/userInfo`,
      revocation_endpoint: `${at}/oauth2/revoke`,
      end_session_endpoint: `${at}/logout`,
      jwks_uri: `${iss}/.well-known/jwks.json`,
      response_types_supported: ['code', 'token'],
      response_modes_supported: ['query', 'fragment'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'implicit'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: [...STANDARD_SCOPES],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['none', 'login'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'cognito:username', 'cognito:groups', 'email', 'email_verified', 'phone_number', 'phone_number_verified', 'name', 'given_name', 'family_name', 'identities'],
      request_uri_parameter_supported: false,
    });
  });
}
