// A SAML identity provider's metadata: its entity id, its single sign-on URL and signing
// certificates. Read from the document the admin gave (or its URL, fetched once when the provider
// is created or updated); the assertions themselves are checked by node-saml (hosted/federation.ts).
import { InvalidParameterException } from '../errors.js';

export interface SamlMetadata { entityId: string; ssoUrl: string; certs: string[] }

const MAX_METADATA = 1024 * 1024;

export async function fetchSamlMetadata(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' });
  } catch {
    throw new InvalidParameterException('Could not retrieve the SAML metadata from MetadataURL.');
  }
  const text = await res.text();
  if (!res.ok || text.length > MAX_METADATA) throw new InvalidParameterException('Could not retrieve the SAML metadata from MetadataURL.');
  return text;
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag)?.[1];

/** The parts of an IdP's EntityDescriptor that signing in needs; a document without them is refused. */
export function parseSamlMetadata(xml: string | undefined): SamlMetadata {
  const bad = (why: string) => new InvalidParameterException(`Invalid SAML metadata: ${why}.`);
  if (!xml || xml.length > MAX_METADATA) throw bad('no document');
  const descriptor = /<(?:\w+:)?EntityDescriptor\b[^>]*>/.exec(xml)?.[0];
  const entityId = descriptor && attr(descriptor, 'entityID');
  if (!entityId) throw bad('no EntityDescriptor entityID');
  const idp = /<(?:\w+:)?IDPSSODescriptor\b[\s\S]*?<\/(?:\w+:)?IDPSSODescriptor>/.exec(xml)?.[0];
  if (!idp) throw bad('no IDPSSODescriptor');
  const services = [...idp.matchAll(/<(?:\w+:)?SingleSignOnService\b[^>]*>/g)].map((m) => m[0]);
  const redirect = services.find((s) => attr(s, 'Binding')?.endsWith('HTTP-Redirect')) ?? services.find((s) => attr(s, 'Binding')?.endsWith('HTTP-POST'));
  const ssoUrl = redirect && attr(redirect, 'Location');
  if (!ssoUrl) throw bad('no SingleSignOnService');
  // Signing keys only (KeyDescriptor without use, or use="signing").
  const keys = [...idp.matchAll(/<(?:\w+:)?KeyDescriptor\b([^>]*)>([\s\S]*?)<\/(?:\w+:)?KeyDescriptor>/g)]
    .filter((m) => !/use\s*=\s*"encryption"/.test(m[1]))
    .flatMap((m) => [...m[2].matchAll(/<(?:\w+:)?X509Certificate>([\s\S]*?)<\/(?:\w+:)?X509Certificate>/g)].map((c) => c[1].replace(/\s+/g, '')));
  if (!keys.length) throw bad('no signing certificate');
  return { entityId, ssoUrl, certs: keys };
}
