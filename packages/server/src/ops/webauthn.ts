// Passkeys of the signed-in user: StartWebAuthnRegistration, CompleteWebAuthnRegistration,
// ListWebAuthnCredentials, DeleteWebAuthnCredential (all authorised by the access token).
import { op } from '../wire/operations.js';
import { ResourceNotFoundException } from '../errors.js';
import { loadClient } from '../domain/pools.js';
import { completeRegistration, credentialDescription, MAX_CREDENTIALS_PER_USER, startRegistration } from '../domain/webauthn.js';
import { authenticated, pageCursor, pageToken } from './common.js';

op('StartWebAuthnRegistration', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const { client } = await loadClient(ctx, claims.clientId);
  return { CredentialCreationOptions: await startRegistration(ctx, pool, client, user) };
});

op('CompleteWebAuthnRegistration', async (ctx, input) => {
  const { pool, user, claims } = await authenticated(ctx, input);
  const { client } = await loadClient(ctx, claims.clientId);
  await completeRegistration(ctx, pool, client, user, input.Credential);
  return {};
});

op('ListWebAuthnCredentials', async (ctx, input) => {
  const { user } = await authenticated(ctx, input);
  const page = await ctx.repo.listWebAuthnCredentials(user.id, input.MaxResults || MAX_CREDENTIALS_PER_USER, pageCursor(input.NextToken));
  return { Credentials: page.items.map(credentialDescription), NextToken: pageToken(page.next) };
});

op('DeleteWebAuthnCredential', async (ctx, input) => {
  const { pool, user } = await authenticated(ctx, input);
  if (!(await ctx.repo.deleteWebAuthnCredential(pool.id, user.id, input.CredentialId))) throw new ResourceNotFoundException('The passkey does not exist.');
  return {};
});
