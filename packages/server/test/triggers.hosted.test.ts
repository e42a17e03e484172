// The triggers on the hosted sign-in: a user of an external OpenID Connect provider passes
// PreSignUp_ExternalProvider and PostAuthentication, and the code grant's tokens go through
// PreTokenGeneration (TokenGeneration_HostedAuth); the pages' own sign-in too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AdminGetUserCommand, CreateIdentityProviderCommand, UpdateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, type Gatehouse } from './support/harness.js';
import { CALLBACK, PASSWORD, callbackParams, confirmedUser, formOn, jwtPayload, oauthClient, pkce, signInOnPage, token, Walker, authorizeUrl, type Answer } from './support/hosted.js';
import { startOidcProvider, type Account } from './support/idps.js';
import { TriggerKit } from './support/triggers.js';

let gh: Gatehouse, kit: TriggerKit, idp: Awaited<ReturnType<typeof startOidcProvider>>;
let poolId: string, clientId: string;
const accounts = new Map<string, Account>();
const IDP_CLIENT = { id: 'gatehouse-rp', secret: 'idp-client-secret-0123456789' };

before(async () => {
  kit = await new TriggerKit().start();
  kit.module('presignup.mjs', `
export const handler = async (event) => {
  record(event);
  if (event.request.userAttributes.email?.endsWith('@blocked.example')) throw new Error('Not this provider account');
  event.response.autoVerifyEmail = true;
  return event;
};`);
  kit.module('record.mjs', `export const handler = async (event) => { record(event); return event; };`);
  kit.module('pretoken.mjs', `
export const handler = async (event) => {
  record(event);
  event.response.claimsAndScopeOverrideDetails = { idTokenGeneration: { claimsToAddOrOverride: { tier: 'hosted' } }, accessTokenGeneration: { scopesToAdd: ['orders/read'] } };
  return event;
};`);
  gh = await startGatehouse({ GATEHOUSE_TRIGGERS_DIR: kit.dir });
  idp = await startOidcProvider({ clientId: IDP_CLIENT.id, clientSecret: IDP_CLIENT.secret, redirectUris: [`${gh.url}/oauth2/idpresponse`], accounts });
  ({ poolId, clientId } = await createPoolAndClient(gh, {
    LambdaConfig: {
      PreSignUp: kit.target('url', 'presignup.mjs'), PostAuthentication: 'record.mjs',
      PreTokenGenerationConfig: { LambdaVersion: 'V2_0', LambdaArn: 'pretoken.mjs' },
    },
  }, oauthClient()));
  await gh.admin.send(new CreateIdentityProviderCommand({
    UserPoolId: poolId, ProviderName: 'MyOidc', ProviderType: 'OIDC',
    ProviderDetails: { client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, authorize_scopes: 'openid email profile', oidc_issuer: idp.issuer },
    AttributeMapping: { email: 'email', name: 'name' },
  }));
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ SupportedIdentityProviders: ['COGNITO', 'MyOidc'] }) } as never));
});
after(async () => { await idp?.stop(); await gh?.stop(); await kit?.stop(); });

/** Through the provider's login and consent pages; answers the redirect back to the app. */
async function viaProvider(w: Walker, start: Answer, login: string): Promise<Answer> {
  let a = await w.followAll(start, CALLBACK);
  for (let i = 0; i < 4 && a.status === 200; i++) {
    const f = formOn(a.text, '/interaction/');
    a = await w.followAll(await w.post(new URL(f.action, a.url).href, { ...f.fields, ...(/name="login"/.test(a.text) ? { login, password: 'any' } : {}) }), CALLBACK);
  }
  return a;
}

const ofPool = (source: string) => kit.events(source).filter((e) => e.userPoolId === poolId);

test('federated sign-in: PreSignUp_ExternalProvider before the user exists (a refusal creates nobody), PostAuthentication, and TokenGeneration_HostedAuth at the code grant', async () => {
  accounts.set('fed', { sub: 'fed-sub', email: 'fed@idp.example.com', name: 'Fed' });
  const w = new Walker(gh.url);
  const p = pkce();
  const back = await viaProvider(w, await w.get(authorizeUrl(clientId, { identity_provider: 'MyOidc', code_challenge: p.challenge, code_challenge_method: 'S256' })), 'fed-sub');
  const { code, error_description } = callbackParams(back.location);
  assert.ok(code, `no code: ${error_description}`);
  const [pre] = ofPool('PreSignUp_ExternalProvider');
  assert.equal(pre.userName, 'MyOidc_fed-sub');
  assert.equal(pre.request.userAttributes.email, 'fed@idp.example.com');
  assert.equal(pre.callerContext.clientId, clientId);
  const user = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'MyOidc_fed-sub' }));
  assert.equal(user.UserAttributes!.find((a) => a.Name === 'email_verified')?.Value, 'true', 'autoVerifyEmail applies');
  assert.equal(ofPool('PostAuthentication_Authentication').at(-1).userName, 'MyOidc_fed-sub');
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  assert.equal(jwtPayload(t.json.id_token).tier, 'hosted');
  assert.ok(String(jwtPayload(t.json.access_token).scope).split(' ').includes('orders/read'));
  const [gen] = ofPool('TokenGeneration_HostedAuth');
  assert.deepEqual(gen.request.scopes.sort(), ['aws.cognito.signin.user.admin', 'email', 'openid', 'profile']);

  accounts.set('blocked', { sub: 'blocked-sub', email: 'someone@blocked.example' });
  const w2 = new Walker(gh.url);
  const refused = await viaProvider(w2, await w2.get(authorizeUrl(clientId, { identity_provider: 'MyOidc', code_challenge: p.challenge, code_challenge_method: 'S256' })), 'blocked-sub');
  assert.ok(callbackParams(refused.location).error, 'the app hears of the refusal');
  await assert.rejects(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'MyOidc_blocked-sub' })), (e: Error) => e.name === 'UserNotFoundException');
});

test('the pages\' own sign-in: PostAuthentication, and PreTokenGeneration when the code is redeemed', async () => {
  const email = await confirmedUser(gh, poolId);
  const before = ofPool('TokenGeneration_HostedAuth').length;
  const w = new Walker(gh.url);
  const p = pkce();
  const back = await signInOnPage(w, clientId, email, PASSWORD, { code_challenge: p.challenge, code_challenge_method: 'S256' });
  const { code } = callbackParams(back.location);
  assert.ok(code);
  assert.equal(ofPool('PostAuthentication_Authentication').at(-1).request.userAttributes.email, email);
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: p.verifier });
  assert.equal(jwtPayload(t.json.id_token).tier, 'hosted');
  assert.equal(ofPool('TokenGeneration_HostedAuth').length, before + 1);
});
