import crypto from 'node:crypto';

/** Encryption at rest and keyed hashes, all derived from the one master key. */
export class Secrets {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;
  constructor(masterKey: Buffer) {
    this.encKey = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'gatehouse/encrypt', 32));
    this.macKey = Buffer.from(crypto.hkdfSync('sha256', masterKey, Buffer.alloc(0), 'gatehouse/mac', 32));
  }
  /** AES-256-GCM; `context` binds a ciphertext to its row so it cannot be moved to another user. */
  encrypt(plain: Buffer | string, context: string): string {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', this.encKey, iv);
    c.setAAD(Buffer.from(context));
    const body = Buffer.concat([c.update(plain), c.final()]);
    return 'v1.' + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }
  decrypt(sealed: string, context: string): Buffer {
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    const d = crypto.createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, 12));
    d.setAAD(Buffer.from(context));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  }
  mac(...parts: string[]): string {
    const h = crypto.createHmac('sha256', this.macKey);
    for (const p of parts) h.update(p).update('\0');
    return h.digest('base64url');
  }
  macBytes(...parts: string[]): Buffer {
    const h = crypto.createHmac('sha256', this.macKey);
    for (const p of parts) h.update(p).update('\0');
    return h.digest();
  }
}

export function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** A numeric code with no modulo bias. */
export function randomDigits(n: number): string {
  let s = '';
  while (s.length < n) s += crypto.randomInt(0, 10).toString();
  return s;
}
