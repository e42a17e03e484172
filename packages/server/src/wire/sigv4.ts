// AWS Signature Version 4 verification for admin (IAM-signed) requests. The expected signature is
// computed by AWS's own signer (@smithy/signature-v4) over the headers the client says it signed;
// this file checks the Authorization header's shape, the scope, the clock and the payload hash, and
// compares the two signatures in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import {
  InvalidSignatureException,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from '../errors.js';

export interface SignedRequest {
  method: string;
  /** Raw path + query as received. */
  url: string;
  /** Lower-case names, as node's IncomingMessage gives. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface SigV4Options {
  /** e.g. 'cognito-idp' */
  service: string;
  lookupSecret(accessKeyId: string): string | undefined;
  now?: Date;
  /** Default 5 minutes, as AWS allows. */
  maxSkewMs?: number;
  /** Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD`. Off by default: it would let a captured
   * request be replayed with any body inside the skew window. AWS SDKs never send it here. */
  allowUnsignedPayload?: boolean;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED = 'UNSIGNED-PAYLOAD';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // malformed escapes: sign what was sent; the signature will decide
  }
};

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The query as the signer takes it: decoded names and values, repeated names as lists. */
function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const p of query.split('&')) {
    if (p === '') continue;
    const i = p.indexOf('=');
    const k = decode(i < 0 ? p : p.slice(0, i));
    const v = i < 0 ? '' : decode(p.slice(i + 1));
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  // Reject rollovers such as month 13 or Feb 30.
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && se < 60
    ? date
    : undefined;
}

const amzDate = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function parseAuthorization(auth: string) {
  const fail = (msg: string): never => {
    throw new InvalidSignatureException(`${msg} Authorization=${auth}`);
  };
  const sp = auth.indexOf(' ');
  if (sp < 0 || auth.slice(0, sp) !== ALGORITHM) fail(`Unsupported Authorization Type.`);
  const fields = new Map<string, string>();
  for (const part of auth.slice(sp + 1).split(',')) {
    const t = part.trim();
    const eq = t.indexOf('=');
    if (eq > 0) fields.set(t.slice(0, eq), t.slice(eq + 1));
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !fields.get(k));
  if (missing.length) fail(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  const credential = fields.get('Credential')!;
  const scope = credential.split('/');
  if (scope.length !== 5 || !scope[0]) fail(`Credential should be scoped to a valid region.`);
  const signedHeaders = fields.get('SignedHeaders')!.split(';');
  if (signedHeaders.some((h) => h === '' || h !== h.toLowerCase())) fail(`Invalid SignedHeaders.`);
  const [accessKeyId, date, region, service, terminator] = scope;
  return { accessKeyId, date, region, service, terminator, signedHeaders, signature: fields.get('Signature')! };
}

export async function verifySigV4(req: SignedRequest, opts: SigV4Options): Promise<{ accessKeyId: string; region: string }> {
  const auth = headerValue(req.headers, 'authorization');
  if (!auth) throw new MissingAuthenticationTokenException('Missing Authentication Token');
  const a = parseAuthorization(auth);

  if (a.terminator !== 'aws4_request')
    throw new InvalidSignatureException(`Credential should be scoped with a valid terminator: 'aws4_request', not '${a.terminator}'.`);
  if (a.service !== opts.service)
    throw new InvalidSignatureException(`Credential should be scoped to correct service: '${opts.service}'.`);
  if (!/^[a-z0-9-]+$/.test(a.region))
    throw new InvalidSignatureException(`Credential should be scoped to a valid region, not '${a.region}'.`);

  const xAmzDate = headerValue(req.headers, 'x-amz-date');
  if (!xAmzDate)
    throw new InvalidSignatureException(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${auth}`);
  const signedAt = parseAmzDate(xAmzDate);
  if (!signedAt)
    throw new InvalidSignatureException(`Date must be in ISO-8601 'basic format'. Got '${xAmzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  if (a.date !== xAmzDate.slice(0, 8))
    throw new InvalidSignatureException(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${a.date}' != '${xAmzDate.slice(0, 8)}', from '${xAmzDate}'.`);

  const now = opts.now ?? new Date();
  const skew = opts.maxSkewMs ?? 5 * 60_000;
  const mins = `${Math.round(skew / 60_000)} min.`;
  if (signedAt.getTime() < now.getTime() - skew)
    throw new InvalidSignatureException(`Signature expired: ${xAmzDate} is now earlier than ${amzDate(new Date(now.getTime() - skew))} (${amzDate(now)} - ${mins})`);
  if (signedAt.getTime() > now.getTime() + skew)
    throw new InvalidSignatureException(`Signature not yet current: ${xAmzDate} is still later than ${amzDate(new Date(now.getTime() + skew))} (${amzDate(now)} + ${mins})`);

  if (!a.signedHeaders.includes('host'))
    throw new InvalidSignatureException(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  // The operation is chosen by x-amz-target: unsigned, a captured request could be replayed as another one.
  if (headerValue(req.headers, 'x-amz-target') !== undefined && !a.signedHeaders.includes('x-amz-target'))
    throw new InvalidSignatureException(`'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.`);

  const secret = opts.lookupSecret(a.accessKeyId);
  if (secret === undefined)
    throw new UnrecognizedClientException('The security token included in the request is invalid.');

  const bodyHash = sha256(req.body);
  const declared = headerValue(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined) {
    if (declared === UNSIGNED) {
      if (!opts.allowUnsignedPayload) throw new InvalidSignatureException(`${UNSIGNED} is not accepted by this service.`);
    } else if (declared.toLowerCase() !== bodyHash) {
      throw new InvalidSignatureException(`The provided 'x-amz-content-sha256' header does not match what was computed.`);
    }
  }

  // Only the headers the client signed go to the signer: it signs every header it is given.
  // A declared payload hash goes too, signed or not: the signer takes the payload's hash from it.
  const headers: Record<string, string> = {};
  for (const h of a.signedHeaders) headers[h] = headerValue(req.headers, h) ?? '';
  if (declared !== undefined) headers['x-amz-content-sha256'] = declared;
  const q = req.url.indexOf('?');
  const signer = new SignatureV4({
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: secret },
    region: a.region, service: a.service, sha256: Hash.bind(null, 'sha256'), applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method.toUpperCase(), protocol: 'http:', hostname: headers.host ?? '',
      path: q < 0 ? req.url : req.url.slice(0, q), query: parseQuery(q < 0 ? '' : req.url.slice(q + 1)),
      headers, body: req.body,
    },
    { signingDate: signedAt, signingRegion: a.region, signingService: a.service, signableHeaders: new Set(a.signedHeaders), unsignableHeaders: new Set(['x-amz-content-sha256']) },
  );
  const expected = Buffer.from(/Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '', 'hex');

  const given = /^[0-9a-fA-F]{64}$/.test(a.signature) ? Buffer.from(a.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidSignatureException(MISMATCH);
  return { accessKeyId: a.accessKeyId, region: a.region };
}
