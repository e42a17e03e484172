// The InboundFederation trigger on the hosted sign-in through external providers: it sees every
// federated sign-in (first and returning) with the provider's raw answer, before the user is created
// or updated, and its `userAttributesToMap` replaces the provider's attributes before the mapping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminGetUserCommand, CreateIdentityProviderCommand, CreateUserPoolCommand, DescribeUserPoolCommand, UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, type Gatehouse } from './support/harness.js';
import { CALLBACK, callbackParams, formOn, jwtPayload, oauthClient, pkce, token, Walker, authorizeUrl, type Answer } from './support/hosted.js';
import { startOidcProvider, startSamlIdp, type Account } from './support/idps.js';
import { TriggerKit, errorOf, type Form } from './support/triggers.js';

let gh: Gatehouse, kit: TriggerKit, idp: Awaited<ReturnType<typeof startOidcProvider>>, saml: Awaited<ReturnType<typeof startSamlIdp>>;
const accounts = new Map<string, Account>();
const IDP_CLIENT = { id: 'gatehouse-rp', secret: 'idp-client-secret-0123456789' };
/** The three ways LambdaConfig names a trigger: a module, a URL, a Lambda ARN that GATEHOUSE_TRIGGERS maps. */
type Via = Form | 'arn';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:inbound';
const pools = {} as Record<Via, { poolId: string; clientId: string }>;

before(async () => {
  kit = await new TriggerKit().start();
  // What the trigger does is chosen by the provider's name for the user, so one module serves every test.
  kit.module('inbound.mjs', `
export const handler = async (event) => {
  record(event);
  const from = event.request.attributes.idToken ?? event.request.attributes.samlResponse;
  if (from.name.startsWith('Keep')) return event;
  if (from.name === 'Throw') throw new Error('Not from this provider');
  if (from.name === 'Slow') await new Promise((r) => setTimeout(r, 6000));
  if (from.name === 'Bad') { event.response.userAttributesToMap = 'name=x'; return event; }
  // Renames and overrides: name gets a title, nickname comes from the email's local part, email is dropped.
  event.response.userAttributesToMap = { name: 'Dr. ' + from.name, nickname: from.email.split('@')[0] };
  return event;
};`);
  kit.module('record.mjs', `export const handler = async (event) => { record(event); return event; };`);
  gh = await startGatehouse({ GATEHOUSE_TRIGGERS_DIR: kit.dir, GATEHOUSE_TRIGGERS: JSON.stringify({ [ARN]: 'inbound.mjs' }) });
  idp = await startOidcProvider({ clientId: IDP_CLIENT.id, clientSecret: IDP_CLIENT.secret, redirectUris: [`${gh.url}/oauth2/idpresponse`], accounts });
  saml = await startSamlIdp();
  for (const via of ['module', 'url', 'arn'] as const) {
    const { poolId, clientId } = await createPoolAndClient(gh, {
      LambdaConfig: { InboundFederation: { LambdaVersion: 'V1_0', LambdaArn: via === 'arn' ? ARN : kit.target(via, 'inbound.mjs') }, PreSignUp: 'record.mjs' },
    }, oauthClient());
    const AttributeMapping = { email: 'email', name: 'name', nickname: 'nickname' };
    await gh.admin.send(new CreateIdentityProviderCommand({
      UserPoolId: poolId, ProviderName: 'MyOidc', ProviderType: 'OIDC', AttributeMapping,
      ProviderDetails: { client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, authorize_scopes: 'openid email profile', oidc_issuer: idp.issuer },
    }));
    await gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'MySaml', ProviderType: 'SAML', ProviderDetails: { MetadataURL: saml.metadataUrl }, AttributeMapping }));
    await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ SupportedIdentityProviders: ['COGNITO', 'MyOidc', 'MySaml'] }) } as never));
    pools[via] = { poolId, clientId };
  }
});
after(async () => { await saml?.stop(); await idp?.stop(); await gh?.stop(); await kit?.stop(); });

/** authorize -> the OIDC provider's login and consent -> back to the app: its callback parameters and the PKCE verifier. */
async function viaOidc(form: Via, sub: string) {
  const w = new Walker(gh.url);
  const p = pkce();
  let a: Answer = await w.followAll(await w.get(authorizeUrl(pools[form].clientId, { identity_provider: 'MyOidc', code_challenge: p.challenge, code_challenge_method: 'S256' })), CALLBACK);
  for (let i = 0; i < 4 && a.status === 200; i++) {
    const f = formOn(a.text, '/interaction/');
    a = await w.followAll(await w.post(new URL(f.action, a.url).href, { ...f.fields, ...(/name="login"/.test(a.text) ? { login: sub, password: 'any' } : {}) }), CALLBACK);
  }
  return { ...callbackParams(a.location), verifier: p.verifier };
}

async function idTokenOf(form: Via, code: string, verifier: string) {
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: pools[form].clientId, redirect_uri: CALLBACK, code_verifier: verifier });
  assert.equal(t.status, 200, JSON.stringify(t.json));
  return jwtPayload(t.json.id_token);
}

async function attributesOf(form: Via, username: string): Promise<Record<string, string>> {
  const u = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: pools[form].poolId, Username: username }));
  return Object.fromEntries(u.UserAttributes!.map((a) => [a.Name!, a.Value!]));
}

const eventsOf = (form: Via, source: string) => kit.events(source).filter((e) => e.userPoolId === pools[form].poolId);

test('the trigger in module form renames and overrides attributes and drops an omitted one, in AdminGetUser and the ID token; PreSignUp sees the result', async () => {
  accounts.set('ren', { sub: 'ren-sub', email: 'ren@idp.example.com', name: 'Ren' });
  const { code, error_description, verifier } = await viaOidc('module', 'ren-sub');
  assert.ok(code, `no code: ${error_description}`);
  const attrs = await attributesOf('module', 'MyOidc_ren-sub');
  assert.equal(attrs.name, 'Dr. Ren');
  assert.equal(attrs.nickname, 'ren');
  assert.equal(attrs.email, undefined, 'an attribute the trigger left out is dropped');
  const id = await idTokenOf('module', code, verifier);
  assert.equal(id.name, 'Dr. Ren');
  assert.equal(id.nickname, 'ren');
  assert.equal(id.email, undefined);
  assert.equal(id['cognito:username'], 'MyOidc_ren-sub', 'the subject is what the provider asserted');
  const [pre] = eventsOf('module', 'PreSignUp_ExternalProvider').filter((e) => e.userName === 'MyOidc_ren-sub');
  assert.equal(pre.request.userAttributes.name, 'Dr. Ren', 'PreSignUp comes after the trigger');
});

test('the event: InboundFederation_ExternalProvider with the envelope, providerName, providerType and the provider\'s raw answer as strings', async () => {
  accounts.set('ev', { sub: 'ev-sub', email: 'ev@idp.example.com', name: 'Ev' });
  const { code } = await viaOidc('module', 'ev-sub');
  assert.ok(code);
  const [e] = eventsOf('module', 'InboundFederation_ExternalProvider').filter((x) => x.userName === 'MyOidc_ev-sub');
  assert.equal(e.triggerSource, 'InboundFederation_ExternalProvider');
  assert.equal(e.version, '1');
  assert.equal(e.userPoolId.split('_')[0], e.region);
  assert.equal(e.callerContext.clientId, pools.module.clientId);
  assert.ok(e.callerContext.awsSdkVersion);
  assert.equal(e.request.providerName, 'MyOidc');
  assert.equal(e.request.providerType, 'OIDC');
  const { idToken, tokenResponse, userInfo } = e.request.attributes;
  assert.equal(idToken.sub, 'ev-sub');
  assert.equal(idToken.email, 'ev@idp.example.com');
  assert.equal(idToken.iss, idp.issuer);
  assert.equal(userInfo.email, 'ev@idp.example.com');
  assert.ok(tokenResponse.access_token && tokenResponse.id_token, 'the tokens are passed, as Cognito does');
  assert.equal(typeof tokenResponse.expires_in, 'string');
  for (const group of [idToken, tokenResponse, userInfo]) for (const v of Object.values(group)) assert.equal(typeof v, 'string');
  assert.equal(idToken.email_verified, 'true', 'non-strings are stringified');
  assert.deepEqual(e.response, { userAttributesToMap: {} });
});

test('an empty userAttributesToMap keeps the provider\'s attributes; a returning user passes the trigger again', async () => {
  accounts.set('keep', { sub: 'keep-sub', email: 'keep@idp.example.com', name: 'Keep Me' });
  assert.ok((await viaOidc('module', 'keep-sub')).code);
  let attrs = await attributesOf('module', 'MyOidc_keep-sub');
  assert.equal(attrs.email, 'keep@idp.example.com');
  assert.equal(attrs.name, 'Keep Me');
  // Returning: the trigger runs again and its answer updates the user.
  accounts.set('keep', { sub: 'keep-sub', email: 'kept@idp.example.com', name: 'Renamed' });
  assert.ok((await viaOidc('module', 'keep-sub')).code);
  assert.equal(eventsOf('module', 'InboundFederation_ExternalProvider').filter((e) => e.userName === 'MyOidc_keep-sub').length, 2);
  attrs = await attributesOf('module', 'MyOidc_keep-sub');
  assert.equal(attrs.name, 'Dr. Renamed');
  assert.equal(attrs.nickname, 'kept');
});

test('the URL and Lambda ARN forms: the same trigger behind a URL, or named by a mapped ARN, replaces the attributes', async () => {
  accounts.set('url', { sub: 'url-sub', email: 'url@idp.example.com', name: 'Url' });
  const before = kit.hits.get('inbound.mjs') ?? 0;
  for (const via of ['url', 'arn'] as const) {
    const { code, error_description } = await viaOidc(via, 'url-sub');
    assert.ok(code, error_description);
    const attrs = await attributesOf(via, 'MyOidc_url-sub');
    assert.equal(attrs.name, 'Dr. Url');
    assert.equal(attrs.email, undefined);
  }
  assert.equal(kit.hits.get('inbound.mjs'), before + 1, 'the URL form went over HTTP; the ARN form loaded the module');
});

test('a throwing, malformed or slow trigger refuses the sign-in: the app hears an error, no user is created or changed', async () => {
  for (const [sub, name, why] of [['throw-sub', 'Throw', /InboundFederation failed with error Not from this provider/], ['bad-sub', 'Bad', /Invalid InboundFederation response/],
    ['slow-sub', 'Slow', /did not answer within 5 seconds/]] as const) {
    accounts.set(sub, { sub, email: `${sub}@idp.example.com`, name });
    const { code, error, error_description } = await viaOidc('module', sub);
    assert.equal(code, undefined);
    assert.equal(error, 'invalid_request');
    assert.match(error_description, why);
    assert.equal((await errorOf(gh.admin.send(new AdminGetUserCommand({ UserPoolId: pools.module.poolId, Username: `MyOidc_${sub}` })))).name, 'UserNotFoundException');
  }
  assert.equal(eventsOf('module', 'PreSignUp_ExternalProvider').filter((e) => e.userName === 'MyOidc_throw-sub').length, 0, 'PreSignUp is not reached');
  // A returning user whose sign-in the trigger refuses keeps what they had.
  accounts.set('ret', { sub: 'ret-sub', email: 'ret@idp.example.com', name: 'Ret' });
  assert.ok((await viaOidc('module', 'ret-sub')).code);
  accounts.set('ret', { sub: 'ret-sub', email: 'changed@idp.example.com', name: 'Throw' });
  assert.equal((await viaOidc('module', 'ret-sub')).error, 'invalid_request');
  const attrs = await attributesOf('module', 'MyOidc_ret-sub');
  assert.equal(attrs.name, 'Dr. Ret');
  assert.equal(attrs.nickname, 'ret');
});

test('SAML: the trigger gets the assertion\'s attributes as samlResponse and its answer is mapped', async () => {
  saml.state.user = { nameId: 'jdoe', email: 'jdoe@corp.example.com', name: 'J Doe' };
  const w = new Walker(gh.url);
  const p = pkce();
  const page = await w.followAll(await w.get(authorizeUrl(pools.module.clientId, { identity_provider: 'MySaml', code_challenge: p.challenge, code_challenge_method: 'S256' })), CALLBACK);
  const f = formOn(page.text, '/saml2/idpresponse');
  const { code, error_description } = callbackParams((await w.post(f.action, f.fields)).location);
  assert.ok(code, error_description);
  const [e] = eventsOf('module', 'InboundFederation_ExternalProvider').filter((x) => x.userName === 'MySaml_jdoe');
  assert.equal(e.request.providerName, 'MySaml');
  assert.equal(e.request.providerType, 'SAML');
  assert.equal(e.request.attributes.samlResponse.email, 'jdoe@corp.example.com');
  assert.equal(e.request.attributes.idToken, undefined);
  const attrs = await attributesOf('module', 'MySaml_jdoe');
  assert.equal(attrs.name, 'Dr. J Doe');
  assert.equal(attrs.nickname, 'jdoe');
  assert.equal(attrs.email, undefined);
});

test('LambdaConfig.InboundFederation: DescribeUserPool returns it; a LambdaVersion other than V1_0 is refused', async () => {
  const { UserPool } = await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: pools.module.poolId }));
  assert.deepEqual(UserPool!.LambdaConfig!.InboundFederation, { LambdaVersion: 'V1_0', LambdaArn: 'inbound.mjs' });
  const e = await errorOf(gh.admin.send(new CreateUserPoolCommand({ PoolName: 'v2', LambdaConfig: { InboundFederation: { LambdaVersion: 'V2_0' as never, LambdaArn: 'inbound.mjs' } } })));
  assert.equal(e.name, 'InvalidParameterException');
});
