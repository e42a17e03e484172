// Identity providers the federation tests start: a real OpenID Connect provider (oidc-provider), a
// deliberately wrong one (ID tokens with a chosen issuer or audience), and a SAML 2.0 IdP that signs
// its assertions with xml-crypto.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import Provider from 'oidc-provider';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { SignedXml } from 'xml-crypto';
import { selfSignedCertificate } from './harness.js';

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}
const closeServer = (server: http.Server) => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });

export interface Account { sub: string; email: string; name?: string }

/**
 * oidc-provider with one client, its development login (any password) and the accounts given.
 * `redirectUris` are Gatehouse's /oauth2/idpresponse URLs.
 */
export async function startOidcProvider(o: { clientId: string; clientSecret: string; redirectUris: string[]; accounts: Map<string, Account> }) {
  const server = http.createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: o.clientId, client_secret: o.clientSecret, redirect_uris: o.redirectUris, token_endpoint_auth_method: 'client_secret_post', grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    // The development login's login is the account id, which is the subject: tests sign in with the sub.
    findAccount: async (_ctx: unknown, id: string) => {
      const a = [...o.accounts.values()].find((x) => x.sub === id) ?? { sub: id, email: `${id}@idp.example.com` };
      return { accountId: a.sub, claims: async () => ({ sub: a.sub, email: a.email, email_verified: true, name: a.name ?? a.sub }) };
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => false },
    cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
  });
  provider.on('server_error', () => {});
  server.on('request', provider.callback());
  return { issuer, provider, stop: () => closeServer(server) };
}

/**
 * A provider that signs in anyone at once and issues ID tokens whose issuer or audience the test
 * picks: what an attacker controlling another provider, or replaying another app's token, sends.
 */
export async function startRogueOidc(o: { iss?: (real: string) => string; aud?: (real: string) => string; sub?: string }) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce?: string; clientId: string }>();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, issuer);
    const json = (v: unknown) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] });
    }
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = crypto.randomBytes(16).toString('hex');
      codes.set(code, { nonce: url.searchParams.get('nonce') ?? undefined, clientId: url.searchParams.get('client_id')! });
      res.writeHead(302, { location: `${url.searchParams.get('redirect_uri')}?code=${code}&state=${encodeURIComponent(url.searchParams.get('state')!)}` });
      return res.end();
    }
    if (url.pathname === '/token') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const c = codes.get(new URLSearchParams(body).get('code') ?? '');
      if (!c) { res.writeHead(400); return res.end('{"error":"invalid_grant"}'); }
      const idToken = await new SignJWT({ nonce: c.nonce, email: 'rogue@idp.example.com' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(o.iss ? o.iss(issuer) : issuer).setAudience(o.aud ? o.aud(c.clientId) : c.clientId).setSubject(o.sub ?? 'rogue-user')
        .setIssuedAt().setExpirationTime('5m').sign(privateKey);
      return json({ access_token: 'at', token_type: 'Bearer', id_token: idToken, expires_in: 300 });
    }
    res.writeHead(404);
    res.end();
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  return { issuer, stop: () => closeServer(server) };
}

export interface SamlUser { nameId: string; email: string; name?: string }

/**
 * A SAML 2.0 IdP: metadata at /metadata; /sso takes an AuthnRequest (HTTP-Redirect binding) and
 * answers with a page that posts a Response whose Assertion it signs. `tweak` lets a test change
 * the assertion before (`before`) or after (`after`) signing.
 */
export async function startSamlIdp() {
  const tls = selfSignedCertificate();
  const cert = fs.readFileSync(tls.cert, 'utf8');
  const key = fs.readFileSync(tls.key, 'utf8');
  const certBody = cert.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const state = {
    user: { nameId: 'saml-user', email: 'saml-user@idp.example.com', name: 'Saml User' } as SamlUser,
    audience: undefined as string | undefined,
    recipient: undefined as string | undefined,
    notOnOrAfterMs: 5 * 60_000,
    sign: true,
    tweak: { before: (x: string) => x, after: (x: string) => x },
    last: undefined as { response: string; relayState: string; acs: string } | undefined,
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, entityId);
    if (url.pathname === '/metadata') {
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' });
      return res.end(`<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">`
        + `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">`
        + `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certBody}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
        + `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${entityId}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`);
    }
    if (url.pathname === '/sso') {
      const request = zlib.inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
      const id = /\sID="([^"]+)"/.exec(request)![1];
      const acs = /AssertionConsumerServiceURL="([^"]+)"/.exec(request)![1];
      const sp = /<(?:\w+:)?Issuer[^>]*>([^<]+)</.exec(request)![1];
      const response = samlResponse({ id, acs, sp });
      const relayState = url.searchParams.get('RelayState') ?? '';
      state.last = { response, relayState, acs };
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(`<!doctype html><html><body><form id="saml" method="post" action="${acs}"><input type="hidden" name="SAMLResponse" value="${response}">`
        + `<input type="hidden" name="RelayState" value="${relayState.replace(/"/g, '&quot;')}"><button type="submit">Continue</button></form>`
        + `<script>document.getElementById('saml').submit()</script></body></html>`);
    }
    res.writeHead(404);
    res.end();
  });
  const port = await listen(server);
  const entityId = `http://127.0.0.1:${port}`;

  function samlResponse(r: { id: string; acs: string; sp: string }): string {
    const now = new Date();
    const later = new Date(now.getTime() + state.notOnOrAfterMs).toISOString();
    const assertionId = '_a' + crypto.randomBytes(16).toString('hex');
    const u = state.user;
    let assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${now.toISOString()}">`
      + `<saml:Issuer>${entityId}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${u.nameId}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${r.id}" NotOnOrAfter="${later}" Recipient="${state.recipient ?? r.acs}"/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${new Date(now.getTime() - 1000).toISOString()}" NotOnOrAfter="${later}"><saml:AudienceRestriction><saml:Audience>${state.audience ?? r.sp}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${u.email}</saml:AttributeValue></saml:Attribute>`
      + `<saml:Attribute Name="name"><saml:AttributeValue>${u.name ?? u.nameId}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`
      + `</saml:Assertion>`;
    assertion = state.tweak.before(assertion);
    if (state.sign) {
      const sig = new SignedXml({ privateKey: key, publicCert: cert, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
      sig.addReference({ xpath: "//*[local-name(.)='Assertion']", digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'] });
      sig.computeSignature(assertion, { location: { reference: "//*[local-name(.)='Issuer']", action: 'after' } });
      assertion = sig.getSignedXml();
    }
    assertion = state.tweak.after(assertion);
    const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r${crypto.randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${r.acs}" InResponseTo="${r.id}">`
      + `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
      + assertion + `</samlp:Response>`;
    return Buffer.from(xml).toString('base64');
  }

  return {
    entityId, metadataUrl: `${entityId}/metadata`, state,
    async stop() { await closeServer(server); fs.rmSync(tls.dir, { recursive: true, force: true }); },
  };
}
