// Passkeys of the signed-in user: StartWebAuthnRegistration, CompleteWebAuthnRegistration,
// ListWebAuthnCredentials, DeleteWebAuthnCredential (all authorised by the access token).
import { publicOp } from '../wire/operations.js';
import { ResourceNotFoundException } from '../errors.js';
import { loadClient } from '../domain/pools.js';
import { completeRegistration, credentialDescription, startRegistration } from '../domain/webauthn.js';
import { pageCursor, pageLimit, pageToken } from '../domain/pool-config.js';
import { authenticated } from './common.js';

publicOp('StartWebAuthnRegistration', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const { client } = await loadClient(ctx, claims.clientId);
  return { CredentialCreationOptions: await startRegistration(ctx, pool, client, user) };
});

publicOp('CompleteWebAuthnRegistration', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const { client } = await loadClient(ctx, claims.clientId);
  await completeRegistration(ctx, pool, client, user, input.raw.Credential);
  return {};
});

publicOp('ListWebAuthnCredentials', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  const page = await ctx.repo.listWebAuthnCredentials(user.id, pageLimit(input, 'MaxResults', { min: 0, def: 20 }), pageCursor(input));
  return { Credentials: page.items.map(credentialDescription), NextToken: pageToken(page.next) };
});

publicOp('DeleteWebAuthnCredential', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  const id = input.str('CredentialId', { max: 131072 });
  if (!(await ctx.repo.deleteWebAuthnCredential(pool.id, user.id, id))) throw new ResourceNotFoundException('The passkey does not exist.');
  return {};
});
