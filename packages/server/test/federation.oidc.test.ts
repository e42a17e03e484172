// Sign-in through an external OpenID Connect provider (a real oidc-provider started here), the
// identity-provider operations, linking, and the attacks on the round trip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminDisableProviderForUserCommand, AdminGetUserCommand, AdminLinkProviderForUserCommand, CreateIdentityProviderCommand,
  DeleteIdentityProviderCommand, DescribeIdentityProviderCommand, DescribeUserPoolClientCommand, GetIdentityProviderByIdentifierCommand, ListIdentityProvidersCommand,
  ListUsersCommand, UpdateIdentityProviderCommand, UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, type Gatehouse } from './support/harness.js';
import { CALLBACK, callbackParams, confirmedUser, formOn, jwtPayload, oauthClient, oauthPool, pkce, PASSWORD, signInOnPage, token, Walker, authorizeUrl, type Answer } from './support/hosted.js';
import { startOidcProvider, startRogueOidc, type Account } from './support/idps.js';

let gh: Gatehouse, poolId: string, clientId: string, idp: Awaited<ReturnType<typeof startOidcProvider>>;
const accounts = new Map<string, Account>();
const IDP_CLIENT = { id: 'gatehouse-rp', secret: 'idp-client-secret-0123456789' };

before(async () => {
  gh = await startGatehouse();
  idp = await startOidcProvider({ clientId: IDP_CLIENT.id, clientSecret: IDP_CLIENT.secret, redirectUris: [`${gh.url}/oauth2/idpresponse`], accounts });
  ({ poolId, clientId } = await oauthPool(gh));
  await gh.admin.send(new CreateIdentityProviderCommand({
    UserPoolId: poolId, ProviderName: 'MyOidc', ProviderType: 'OIDC', IdpIdentifiers: ['example.com'],
    ProviderDetails: { client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, authorize_scopes: 'openid email profile', oidc_issuer: idp.issuer },
    AttributeMapping: { email: 'email', email_verified: 'email_verified', name: 'name' },
  }));
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ SupportedIdentityProviders: ['COGNITO', 'MyOidc'] }) } as never));
});
after(async () => { await idp?.stop(); await gh?.stop(); });

/** Through the provider's own login and consent pages, as a person would; answers the redirect back to the app. */
async function viaProvider(w: Walker, start: Answer, login: string): Promise<Answer> {
  let a = await w.followAll(start, CALLBACK);
  for (let i = 0; i < 4 && a.status === 200; i++) {
    const f = formOn(a.text, '/interaction/');
    const action = new URL(f.action, a.url).href;
    a = await w.followAll(await w.post(action, { ...f.fields, ...(/name="login"/.test(a.text) ? { login, password: 'any' } : {}) }), CALLBACK);
  }
  return a;
}

async function federated(o: Record<string, string>, login: string, client = clientId) {
  const w = new Walker(gh.url);
  const p = pkce();
  const back = await viaProvider(w, await w.get(authorizeUrl(client, { code_challenge: p.challenge, code_challenge_method: 'S256', ...o })), login);
  return { w, back, p };
}

async function redeem(back: Answer, verifier: string) {
  const { code, error, error_description } = callbackParams(back.location);
  assert.ok(code, `no code: ${error} ${error_description}`);
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  return t.json;
}

test('identity-provider operations: create, describe, list, by identifier, update, delete', async () => {
  const { IdentityProvider } = await gh.admin.send(new DescribeIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'MyOidc' }));
  assert.equal(IdentityProvider?.ProviderType, 'OIDC');
  assert.equal(IdentityProvider?.ProviderDetails?.attributes_request_method, 'GET');
  assert.equal(IdentityProvider?.AttributeMapping?.username, 'sub');
  const byId = await gh.admin.send(new GetIdentityProviderByIdentifierCommand({ UserPoolId: poolId, IdpIdentifier: 'example.com' }));
  assert.equal(byId.IdentityProvider?.ProviderName, 'MyOidc');
  await gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Google', ProviderType: 'Google', ProviderDetails: { client_id: 'g', client_secret: 's', authorize_scopes: 'openid email' } }));
  const google = await gh.admin.send(new DescribeIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Google' }));
  assert.equal(google.IdentityProvider?.ProviderDetails?.oidc_issuer, 'https://accounts.google.com', 'presets fill their public endpoints');
  const list = await gh.admin.send(new ListIdentityProvidersCommand({ UserPoolId: poolId }));
  assert.deepEqual(list.Providers?.map((p) => p.ProviderName).sort(), ['Google', 'MyOidc']);
  await assert.rejects(gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'MyOidc', ProviderType: 'OIDC', ProviderDetails: { client_id: 'x', authorize_scopes: 'openid', oidc_issuer: idp.issuer } })), (e: Error) => e.name === 'DuplicateProviderException');
  await assert.rejects(gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Plain', ProviderType: 'OIDC', ProviderDetails: { client_id: 'x', authorize_scopes: 'openid', oidc_issuer: 'http://idp.example.com' } })), (e: Error) => e.name === 'InvalidParameterException', 'plain HTTP only to this machine');
  const updated = await gh.admin.send(new UpdateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Google', ProviderDetails: { authorize_scopes: 'openid email profile' } }));
  assert.equal(updated.IdentityProvider?.ProviderDetails?.client_id, 'g', 'details not named stay');
  await gh.admin.send(new DeleteIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Google' }));
  await assert.rejects(gh.admin.send(new DescribeIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Google' })), (e: Error) => e.name === 'ResourceNotFoundException');
});

test('identity_provider=MyOidc: the provider signs the user in, a federated user (EXTERNAL_PROVIDER) gets tokens with identities', async () => {
  accounts.set('alice', { sub: 'alice-sub', email: 'alice@idp.example.com', name: 'Alice' });
  const { back, p } = await federated({ identity_provider: 'MyOidc', nonce: 'app-nonce' }, 'alice-sub');
  const t = await redeem(back, p.verifier);
  const id = jwtPayload(t.id_token);
  assert.equal(id['cognito:username'], 'MyOidc_alice-sub');
  assert.equal(id.email, 'alice@idp.example.com');
  assert.equal(id.name, 'Alice');
  assert.equal(id.nonce, 'app-nonce', 'the app\'s nonce, not the provider\'s');
  assert.deepEqual(id.identities.map((i: { providerName: string; userId: string; providerType: string }) => [i.providerName, i.userId, i.providerType]), [['MyOidc', 'alice-sub', 'OIDC']]);
  const user = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'MyOidc_alice-sub' }));
  assert.equal(user.UserStatus, 'EXTERNAL_PROVIDER');
  // Signing in again is the same user, not a second one.
  const again = await federated({ identity_provider: 'MyOidc' }, 'alice-sub');
  assert.equal(jwtPayload((await redeem(again.back, again.p.verifier)).id_token).sub, id.sub);
});

test('idp_identifier picks the provider; a provider the client does not support is refused at the redirect URI', async () => {
  const { back, p } = await federated({ idp_identifier: 'example.com' }, 'bob');
  assert.equal(jwtPayload((await redeem(back, p.verifier)).id_token)['cognito:username'], 'MyOidc_bob');
  const w = new Walker(gh.url);
  const unknown = await w.get(authorizeUrl(clientId, { identity_provider: 'Nobody', code_challenge: pkce().challenge }));
  assert.equal(callbackParams(unknown.location).error, 'invalid_request');
});

test('a federated user\'s email never becomes a sign-in alias of someone else\'s account', async () => {
  const victim = await confirmedUser(gh, poolId);
  accounts.set('mallory', { sub: 'mallory-sub', email: victim });
  const { back, p } = await federated({ identity_provider: 'MyOidc' }, 'mallory-sub');
  const id = jwtPayload((await redeem(back, p.verifier)).id_token);
  assert.equal(id['cognito:username'], 'MyOidc_mallory-sub', 'a user of its own');
  // The victim still signs in as themselves with their password.
  const own = await signInOnPage(new Walker(gh.url), clientId, victim, PASSWORD, { code_challenge: p.challenge, prompt: 'login' });
  const t = await token(gh.url, { grant_type: 'authorization_code', code: callbackParams(own.location).code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.notEqual(jwtPayload(t.json.id_token).sub, id.sub);
});

test('AdminLinkProviderForUser: the provider\'s subject then signs in as the existing user; AdminDisableProviderForUser ends that', async () => {
  const email = await confirmedUser(gh, poolId);
  await gh.admin.send(new AdminLinkProviderForUserCommand({
    UserPoolId: poolId, DestinationUser: { ProviderName: 'Cognito', ProviderAttributeValue: email },
    SourceUser: { ProviderName: 'MyOidc', ProviderAttributeName: 'Cognito_Subject', ProviderAttributeValue: 'carol-sub' },
  }));
  accounts.set('carol', { sub: 'carol-sub', email: 'carol@idp.example.com' });
  const { back, p } = await federated({ identity_provider: 'MyOidc' }, 'carol-sub');
  const id = jwtPayload((await redeem(back, p.verifier)).id_token);
  assert.equal(id.email, email, 'signed in as the linked user');
  assert.equal(id.identities[0].userId, 'carol-sub');
  await gh.admin.send(new AdminDisableProviderForUserCommand({ UserPoolId: poolId, User: { ProviderName: 'MyOidc', ProviderAttributeName: 'Cognito_Subject', ProviderAttributeValue: 'carol-sub' } }));
  const after = await federated({ identity_provider: 'MyOidc' }, 'carol-sub');
  const other = jwtPayload((await redeem(after.back, after.p.verifier)).id_token);
  assert.notEqual(other.sub, id.sub, 'unlinked: the subject is a federated user of its own again');
  const { Users } = await gh.admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: `email = "${email}"` }));
  assert.equal(Users?.[0]?.Attributes?.find((a) => a.Name === 'identities'), undefined, 'the link is gone from the user');
});

test('ID token from the wrong issuer: refused, the app hears an error, no user is made', async () => {
  const rogue = await startRogueOidc({ iss: () => 'https://accounts.google.com' });
  try {
    await addProvider('WrongIss', rogue.issuer);
    const w = new Walker(gh.url);
    const back = await w.followAll(await w.get(authorizeUrl(clientId, { identity_provider: 'WrongIss', code_challenge: pkce().challenge })), CALLBACK);
    const q = callbackParams(back.location);
    assert.equal(q.code, undefined);
    assert.equal(q.error, 'invalid_request');
    assert.match(q.error_description, /iss/i);
    await assert.rejects(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'WrongIss_rogue-user' })), (e: Error) => e.name === 'UserNotFoundException');
  } finally { await rogue.stop(); }
});

test('ID token for another audience (another app\'s token replayed): refused', async () => {
  const rogue = await startRogueOidc({ aud: () => 'some-other-client' });
  try {
    await addProvider('WrongAud', rogue.issuer);
    const w = new Walker(gh.url);
    const back = await w.followAll(await w.get(authorizeUrl(clientId, { identity_provider: 'WrongAud', code_challenge: pkce().challenge })), CALLBACK);
    const q = callbackParams(back.location);
    assert.equal(q.code, undefined);
    assert.match(q.error_description, /aud/i);
  } finally { await rogue.stop(); }
});

test('login CSRF through the provider: a callback carried to another browser is refused, and a callback works only once', async () => {
  const rogue = await startRogueOidc({});
  try {
    await addProvider('Quick', rogue.issuer);
    const attacker = new Walker(gh.url);
    const toIdp = await attacker.get(authorizeUrl(clientId, { identity_provider: 'Quick', code_challenge: pkce().challenge }));
    const callback = (await attacker.get(toIdp.location!)).location!;
    assert.match(callback, /\/oauth2\/idpresponse\?code=/);
    const victim = new Walker(gh.url);
    const pushed = await victim.get(callback);
    assert.equal(pushed.status, 400, 'another browser');
    assert.equal(pushed.location, undefined);
    const own = await attacker.get(callback);
    assert.equal(own.status, 302);
    assert.ok(callbackParams(own.location).code);
    const replay = await attacker.get(callback);
    assert.equal(replay.status, 400, 'the round trip is spent');
  } finally { await rogue.stop(); }
});

async function addProvider(name: string, issuer: string) {
  await gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: name, ProviderType: 'OIDC', ProviderDetails: { client_id: 'gh', client_secret: 's', authorize_scopes: 'openid email', oidc_issuer: issuer } }));
  const { UserPoolClient } = await gh.admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ SupportedIdentityProviders: [...UserPoolClient!.SupportedIdentityProviders!, name] }) } as never));
}
