import { publicOp, adminOp } from '../wire/operations.js';
import { initiateAuth, respondToChallenge, refreshTokens } from '../domain/signin/index.js';
import { CognitoError, NotAuthorizedException, UnsupportedOperationException } from '../errors.js';
import { adminFindUser } from '../domain/users.js';
import { safeEqual, sha256 } from '../domain/secrets.js';
import { authenticated, clientOf, poolClientOf, poolOf, usernameRule } from './common.js';
import { throttle } from '../domain/limits.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedClient } from '../domain/pools.js';

const flows = ['USER_SRP_AUTH', 'REFRESH_TOKEN_AUTH', 'REFRESH_TOKEN', 'CUSTOM_AUTH', 'ADMIN_NO_SRP_AUTH', 'USER_PASSWORD_AUTH', 'ADMIN_USER_PASSWORD_AUTH', 'USER_AUTH'] as const;
const challenges = ['SMS_MFA', 'EMAIL_OTP', 'SOFTWARE_TOKEN_MFA', 'SELECT_MFA_TYPE', 'MFA_SETUP', 'PASSWORD_VERIFIER', 'CUSTOM_CHALLENGE', 'SELECT_CHALLENGE', 'DEVICE_SRP_AUTH', 'DEVICE_PASSWORD_VERIFIER', 'ADMIN_NO_SRP_AUTH', 'NEW_PASSWORD_REQUIRED', 'SMS_OTP', 'PASSWORD', 'WEB_AUTHN', 'PASSWORD_SRP'] as const;

/** For clients with a secret, the operations that take ClientSecret (not SECRET_HASH) must carry it. */
function checkClientSecret(client: LoadedClient, secret: string | undefined) {
  if (client.secret && (!secret || !safeEqual(secret, client.secret))) throw new NotAuthorizedException(`Unable to verify secret for client ${client.id}`);
}

/** Counts a sign-in step for the metrics: tokens, the next challenge, or the error. */
async function counted<T extends { ChallengeName?: string; AuthenticationResult?: object }>(ctx: Ctx, flow: string, step: Promise<T>): Promise<T> {
  try {
    const answer = await step;
    ctx.metrics.signIn(flow, answer.AuthenticationResult ? 'tokens' : answer.ChallengeName ?? 'tokens');
    return answer;
  } catch (e) {
    ctx.metrics.signIn(flow, e instanceof CognitoError ? e.name : 'InternalErrorException');
    throw e;
  }
}

publicOp('InitiateAuth', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  const flow = input.str('AuthFlow', { oneOf: flows });
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, flow, initiateAuth(ctx, pool, client, flow, input.optMap('AuthParameters') ?? {}, { admin: false, session: input.optStr('Session', { max: 2048 }), clientMetadata: input.optMap('ClientMetadata') }));
});

adminOp('AdminInitiateAuth', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  const flow = input.str('AuthFlow', { oneOf: flows });
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, flow, initiateAuth(ctx, pool, client, flow, input.optMap('AuthParameters') ?? {}, { admin: true, session: input.optStr('Session', { max: 2048 }), clientMetadata: input.optMap('ClientMetadata') }));
});

publicOp('RespondToAuthChallenge', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  const name = input.str('ChallengeName', { oneOf: challenges });
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, name, respondToChallenge(ctx, pool, client, name, input.optMap('ChallengeResponses') ?? {}, input.optStr('Session', { max: 2048 }), input.optMap('ClientMetadata')));
});

adminOp('AdminRespondToAuthChallenge', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  const name = input.str('ChallengeName', { oneOf: challenges });
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, name, respondToChallenge(ctx, pool, client, name, input.optMap('ChallengeResponses') ?? {}, input.optStr('Session', { max: 2048 }), input.optMap('ClientMetadata')));
});

publicOp('GetTokensFromRefreshToken', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  const token = input.str('RefreshToken', { max: 4096 });
  checkClientSecret(client, input.optStr('ClientSecret', { max: 64 }));
  return { AuthenticationResult: await refreshTokens(ctx, pool, client, token, input.optMap('ClientMetadata')) };
});

publicOp('RevokeToken', async (ctx, input) => {
  const { client } = await clientOf(ctx, input);
  const token = input.str('Token', { max: 4096 });
  checkClientSecret(client, input.optStr('ClientSecret', { max: 64 }));
  if (!client.config.EnableTokenRevocation) throw new UnsupportedOperationException('Token revocation is not enabled for this client.');
  const row = await ctx.repo.getRefreshToken(sha256(token));
  // Unknown tokens succeed quietly, as RFC 7009 asks; another client's token is refused.
  if (row && row.client_id !== client.id) throw new NotAuthorizedException('Token does not belong to this client.');
  if (row) await ctx.repo.revokeTokenFamily(row.user_id, row.origin_jti, ctx.now());
  return {};
});

publicOp('GlobalSignOut', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  await ctx.repo.revokeUserTokens(user.id, ctx.now());
  return {};
});

adminOp('AdminUserGlobalSignOut', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.str('Username', usernameRule));
  await ctx.repo.revokeUserTokens(user.id, ctx.now());
  return {};
});
