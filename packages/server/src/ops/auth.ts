import { op } from '../wire/operations.js';
import { initiateAuth, respondToChallenge, refreshTokens } from '../domain/signin/index.js';
import type { ChallengeAnswer } from '../domain/signin/base.js';
import { CognitoError, NotAuthorizedException, UnsupportedOperationException } from '../errors.js';
import { adminFindUser } from '../domain/users.js';
import { safeEqual, sha256 } from '../domain/secrets.js';
import { authenticated, clientOf, poolClientOf, poolOf } from './common.js';
import { throttle } from '../domain/limits.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedClient } from '../domain/pools.js';

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

op('InitiateAuth', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, input.AuthFlow, initiateAuth(ctx, pool, client, input.AuthFlow, input.AuthParameters ?? {}, { admin: false, session: input.Session, clientMetadata: input.ClientMetadata }));
});

op('AdminInitiateAuth', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  await throttle(ctx, client.id, ['signIn']);
  return counted(ctx, input.AuthFlow, initiateAuth(ctx, pool, client, input.AuthFlow, input.AuthParameters ?? {}, { admin: true, session: input.Session, clientMetadata: input.ClientMetadata }));
});

/** RespondToAuthChallenge's answer has no AvailableChallenges (only InitiateAuth offers a choice). */
function withoutChoice({ AvailableChallenges: _, ...answer }: ChallengeAnswer) {
  return answer;
}

op('RespondToAuthChallenge', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  await throttle(ctx, client.id, ['signIn']);
  return withoutChoice(await counted(ctx, input.ChallengeName, respondToChallenge(ctx, pool, client, input.ChallengeName, input.ChallengeResponses ?? {}, input.Session, { clientMetadata: input.ClientMetadata })));
});

op('AdminRespondToAuthChallenge', async (ctx, input) => {
  const { pool, client } = await poolClientOf(ctx, input);
  await throttle(ctx, client.id, ['signIn']);
  return withoutChoice(await counted(ctx, input.ChallengeName, respondToChallenge(ctx, pool, client, input.ChallengeName, input.ChallengeResponses ?? {}, input.Session, { clientMetadata: input.ClientMetadata })));
});

op('GetTokensFromRefreshToken', async (ctx, input) => {
  const { pool, client } = await clientOf(ctx, input);
  checkClientSecret(client, input.ClientSecret);
  return { AuthenticationResult: await refreshTokens(ctx, pool, client, input.RefreshToken, input.ClientMetadata) };
});

op('RevokeToken', async (ctx, input) => {
  const { client } = await clientOf(ctx, input);
  const token = input.Token;
  checkClientSecret(client, input.ClientSecret);
  if (!client.config.EnableTokenRevocation) throw new UnsupportedOperationException('Token revocation is not enabled for this client.');
  const row = await ctx.repo.getRefreshToken(sha256(token));
  // Unknown tokens succeed quietly, as RFC 7009 asks; another client's token is refused.
  if (row && row.client_id !== client.id) throw new NotAuthorizedException('Token does not belong to this client.');
  if (row) await ctx.repo.revokeTokenFamily(row.user_id, row.origin_jti, ctx.now());
  return {};
});

op('GlobalSignOut', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  await ctx.repo.revokeUserTokens(user.id, ctx.now());
  return {};
});

op('AdminUserGlobalSignOut', async (ctx, input) => {
  const pool = await poolOf(ctx, input);
  const user = await adminFindUser(ctx, pool, input.Username);
  await ctx.repo.revokeUserTokens(user.id, ctx.now());
  return {};
});
