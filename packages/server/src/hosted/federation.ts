// Sign-in through an external identity provider (OIDC, SAML): the authorize request goes there and
// comes back to /oauth2/idpresponse or /saml2/idpresponse.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { OAuthError } from '../domain/oauth.js';
import { redirectError, type Flow } from './flow.js';

export async function startFederation(_ctx: Ctx, _req: FastifyRequest, reply: FastifyReply, flow: Flow) {
  return redirectError(reply, flow.req.redirectUri, new OAuthError('invalid_request', 'The identity provider does not exist for this client.'), flow.req.state, flow.req.responseType === 'token');
}
