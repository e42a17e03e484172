// Sign-in through a SAML 2.0 identity provider started here (it signs its assertions), and the
// attacks on assertions: tampered, replayed, unsigned, for another audience or recipient, expired.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { AdminGetUserCommand, CreateIdentityProviderCommand, DescribeIdentityProviderCommand, UpdateUserPoolClientCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, type Gatehouse } from './support/harness.js';
import { authorizeUrl, CALLBACK, callbackParams, formOn, jwtPayload, oauthClient, oauthPool, pkce, token, Walker, type Answer } from './support/hosted.js';
import { startSamlIdp } from './support/idps.js';

let gh: Gatehouse, poolId: string, clientId: string, idp: Awaited<ReturnType<typeof startSamlIdp>>;

before(async () => {
  gh = await startGatehouse();
  idp = await startSamlIdp();
  ({ poolId, clientId } = await oauthPool(gh));
  await gh.admin.send(new CreateIdentityProviderCommand({
    UserPoolId: poolId, ProviderName: 'MySaml', ProviderType: 'SAML', ProviderDetails: { MetadataURL: idp.metadataUrl },
    AttributeMapping: { email: 'email', name: 'name' }, IdpIdentifiers: ['corp.example.com'],
  }));
  await gh.admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ...oauthClient({ SupportedIdentityProviders: ['COGNITO', 'MySaml'] }) } as never));
});
after(async () => { await idp?.stop(); await gh?.stop(); });
beforeEach(() => {
  Object.assign(idp.state, { audience: undefined, recipient: undefined, notOnOrAfterMs: 5 * 60_000, sign: true, tweak: { before: (x: string) => x, after: (x: string) => x } });
});

/** authorize -> the IdP -> its auto-posting form -> our ACS: where the app is sent. */
async function viaSaml(w: Walker, o: Record<string, string> = {}): Promise<{ back: Answer; verifier: string; posted: Record<string, string>; acs: string }> {
  const p = pkce();
  const page = await w.followAll(await w.get(authorizeUrl(clientId, { identity_provider: 'MySaml', code_challenge: p.challenge, code_challenge_method: 'S256', ...o })), CALLBACK);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const f = formOn(page.text, '/saml2/idpresponse');
  const back = await w.post(f.action, f.fields);
  return { back, verifier: p.verifier, posted: f.fields, acs: f.action };
}

test('SAML: a signed assertion signs the user in as a federated user, attributes mapped', async () => {
  idp.state.user = { nameId: 'jdoe', email: 'jdoe@corp.example.com', name: 'J Doe' };
  const { back, verifier } = await viaSaml(new Walker(gh.url));
  const { code, error_description } = callbackParams(back.location);
  assert.ok(code, error_description);
  const t = await token(gh.url, { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: CALLBACK, code_verifier: verifier });
  const id = jwtPayload(t.json.id_token);
  assert.equal(id['cognito:username'], 'MySaml_jdoe');
  assert.equal(id.email, 'jdoe@corp.example.com');
  assert.equal(id.name, 'J Doe');
  assert.equal(id.identities[0].providerType, 'SAML');
  const user = await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'MySaml_jdoe' }));
  assert.equal(user.UserStatus, 'EXTERNAL_PROVIDER');
  const { IdentityProvider } = await gh.admin.send(new DescribeIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'MySaml' }));
  assert.match(IdentityProvider!.ProviderDetails!.MetadataFile!, /EntityDescriptor/, 'the metadata fetched from MetadataURL is kept');
  // idp_identifier finds the same provider.
  const again = await viaSaml(new Walker(gh.url), { identity_provider: undefined as never, idp_identifier: 'corp.example.com' });
  assert.ok(callbackParams(again.back.location).code);
});

function refused(back: Answer, pattern: RegExp) {
  assert.equal(back.status, 302);
  const q = callbackParams(back.location);
  assert.equal(q.code, undefined, 'no code');
  assert.equal(q.error, 'invalid_request');
  assert.match(q.error_description, pattern);
}

test('tampered SAML assertion: a NameID changed after signing is refused', async () => {
  idp.state.user = { nameId: 'intern', email: 'intern@corp.example.com' };
  idp.state.tweak.after = (x) => x.replace('>intern<', '>ceo<');
  const { back } = await viaSaml(new Walker(gh.url));
  refused(back, /signature/i);
  await assert.rejects(gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'MySaml_ceo' })), (e: Error) => e.name === 'UserNotFoundException');
});

test('unsigned SAML assertion: refused', async () => {
  idp.state.sign = false;
  refused((await viaSaml(new Walker(gh.url))).back, /signature/i);
});

test('replayed SAML assertion: posted again, or under a new sign-in request, it is refused', async () => {
  idp.state.user = { nameId: 'replay', email: 'replay@corp.example.com' };
  const w = new Walker(gh.url);
  const first = await viaSaml(w);
  assert.ok(callbackParams(first.back.location).code);
  const same = await w.post(first.acs, first.posted);
  assert.equal(same.status, 400, 'the same post again: its request is spent');
  // A fresh request from the same browser, answered with the old response.
  const page = await w.followAll(await w.get(authorizeUrl(clientId, { identity_provider: 'MySaml', code_challenge: pkce().challenge })), CALLBACK);
  const fresh = formOn(page.text, '/saml2/idpresponse');
  const replayed = await w.post(fresh.action, { SAMLResponse: first.posted.SAMLResponse, RelayState: fresh.fields.RelayState });
  refused(replayed, /request|already used/i);
});

test('SAML assertion for another audience: refused', async () => {
  idp.state.audience = 'urn:amazon:cognito:sp:someone_else';
  refused((await viaSaml(new Walker(gh.url))).back, /audience/i);
});

test('SAML assertion for another recipient: refused', async () => {
  idp.state.recipient = 'https://evil.example.com/saml2/idpresponse';
  refused((await viaSaml(new Walker(gh.url))).back, /recipient/i);
});

test('expired SAML assertion: refused', async () => {
  idp.state.notOnOrAfterMs = -5 * 60_000;
  refused((await viaSaml(new Walker(gh.url))).back, /expired|not yet valid|subject confirmation/i);
});

test('SAML metadata without a signing certificate or sign-on service is refused', async () => {
  const bad = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor></md:IDPSSODescriptor></md:EntityDescriptor>';
  await assert.rejects(gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Broken', ProviderType: 'SAML', ProviderDetails: { MetadataFile: bad } })), (e: Error) => e.name === 'InvalidParameterException');
  await assert.rejects(gh.admin.send(new CreateIdentityProviderCommand({ UserPoolId: poolId, ProviderName: 'Both', ProviderType: 'SAML', ProviderDetails: { MetadataFile: bad, MetadataURL: idp.metadataUrl } })), (e: Error) => e.name === 'InvalidParameterException');
});
