import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadLimits, type Limits } from './domain/limits.js';
import { privateDataDir } from './storage/open.js';
import { LOG_LEVELS } from './log.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string;
  region: string;
  databaseUrl?: string;
  admin: { accessKeyId: string; secretAccessKey: string; file?: string };
  masterKey: Buffer;
  smtpUrl?: string;
  emailFrom: string;
  smsWebhookUrl?: string;
  logLevel: string;
  /** Rate limits and the per-user code cap (domain/limits.ts). */
  limits: Limits;
  /** Fastify's trustProxy: whether (or which) proxies' X-Forwarded-For names the client address. */
  trustProxy: boolean | number | string;
  /** An API request's body must arrive within this long after its headers (slow-body attacks); uploads have their own. */
  bodyTimeoutMs: number;
  /** The admin console at /console, its system pool of operators and their bearer-token access (GATEHOUSE_CONSOLE). */
  console: boolean;
  /** GATEHOUSE_TLS_CERT / GATEHOUSE_TLS_KEY: PEM certificate chain and key; the server speaks HTTPS when set. */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * Lambda triggers (domain/triggers/): the only directory trigger modules load from, and the map
   * from Lambda ARNs (as pools name them) to a URL or a module.
   */
  triggers: { dir?: string; arns: Record<string, string> };
}

function readOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  try {
    return { value: fs.readFileSync(file, 'utf8').trim(), created: false };
  } catch {
    const value = make();
    // 'wx' so two processes starting together cannot overwrite each other's secret.
    try {
      fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
      return { value, created: true };
    } catch {
      return { value: fs.readFileSync(file, 'utf8').trim(), created: false };
    }
  }
}

/** Environment first; an optional JSON file named by GATEHOUSE_CONFIG fills what it leaves unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fileVars: Record<string, string> = env.GATEHOUSE_CONFIG ? JSON.parse(fs.readFileSync(env.GATEHOUSE_CONFIG, 'utf8')) : {};
  const get = (k: string) => env[k] ?? fileVars[k];
  const port = Number(get('PORT') ?? 9229);
  const dataDir = path.resolve(get('GATEHOUSE_DATA_DIR') ?? './data');
  privateDataDir(dataDir);

  let admin: Config['admin'];
  const id = get('GATEHOUSE_ADMIN_ACCESS_KEY_ID');
  const secret = get('GATEHOUSE_ADMIN_SECRET_ACCESS_KEY');
  if (id && secret) admin = { accessKeyId: id, secretAccessKey: secret };
  else {
    const file = path.join(dataDir, 'admin-credentials.json');
    const { value } = readOrCreate(file, () => JSON.stringify({
      accessKeyId: 'GH' + crypto.randomBytes(9).toString('hex').toUpperCase(),
      secretAccessKey: crypto.randomBytes(30).toString('base64url'),
    }));
    admin = { ...JSON.parse(value), file };
  }

  // The master key encrypts verifiers, signing keys and client secrets at rest and keys code HMACs.
  // Processes sharing one database must share it: set GATEHOUSE_MASTER_KEY (base64, 32 bytes) there.
  const mk = get('GATEHOUSE_MASTER_KEY') ?? readOrCreate(path.join(dataDir, 'master.key'), () => crypto.randomBytes(32).toString('base64')).value;
  const masterKey = Buffer.from(mk, 'base64');
  const tls = loadTls(get('GATEHOUSE_TLS_CERT'), get('GATEHOUSE_TLS_KEY'));
  if (masterKey.length !== 32) throw new Error('GATEHOUSE_MASTER_KEY must be 32 bytes, base64-encoded');

  return {
    port,
    host: get('HOST') ?? '0.0.0.0',
    dataDir,
    publicUrl: (get('GATEHOUSE_PUBLIC_URL') ?? `${tls ? 'https' : 'http'}://localhost:${port}`).replace(/\/+$/, ''),
    region: get('GATEHOUSE_REGION') ?? 'local',
    databaseUrl: get('GATEHOUSE_DATABASE_URL') || undefined,
    admin,
    masterKey,
    smtpUrl: get('GATEHOUSE_SMTP_URL') || undefined,
    emailFrom: get('GATEHOUSE_EMAIL_FROM') ?? 'no-reply@gatehouse.local',
    smsWebhookUrl: get('GATEHOUSE_SMS_WEBHOOK_URL') || undefined,
    logLevel: parseLogLevel(get('GATEHOUSE_LOG_LEVEL')),
    limits: loadLimits(get),
    trustProxy: parseTrustProxy(get('GATEHOUSE_TRUST_PROXY')),
    bodyTimeoutMs: positiveInteger('GATEHOUSE_BODY_TIMEOUT_MS', get('GATEHOUSE_BODY_TIMEOUT_MS'), 10_000),
    console: onOff('GATEHOUSE_CONSOLE', get('GATEHOUSE_CONSOLE'), true),
    tls,
    triggers: { dir: get('GATEHOUSE_TRIGGERS_DIR') ? path.resolve(get('GATEHOUSE_TRIGGERS_DIR')!) : undefined, arns: parseTriggerMap(get('GATEHOUSE_TRIGGERS')) },
  };
}

/** Both files or neither: a certificate without its key (or the reverse) stops the start. */
function loadTls(cert: string | undefined, key: string | undefined): Config['tls'] {
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('GATEHOUSE_TLS_CERT and GATEHOUSE_TLS_KEY must be set together');
  return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
}

/** GATEHOUSE_TRUST_PROXY: unset or false, true (any proxy), a hop count, or addresses/CIDRs separated by commas. */
function parseTrustProxy(v: string | undefined): boolean | number | string {
  if (!v || v === 'false') return false;
  if (v === 'true') return true;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** GATEHOUSE_TRIGGERS: a JSON object from Lambda ARN to URL or module (checked by the trigger runtime). */
function parseTriggerMap(v: string | undefined): Record<string, string> {
  if (v === undefined || v.trim() === '') return {};
  let map: unknown;
  try {
    map = JSON.parse(v);
  } catch {
    throw new Error('GATEHOUSE_TRIGGERS must be a JSON object from Lambda ARN to a URL or module');
  }
  if (!map || typeof map !== 'object' || Array.isArray(map) || Object.values(map).some((x) => typeof x !== 'string')) {
    throw new Error('GATEHOUSE_TRIGGERS must be a JSON object from Lambda ARN to a URL or module');
  }
  return map as Record<string, string>;
}

function parseLogLevel(v: string | undefined): string {
  if (v === undefined || v === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new Error(`GATEHOUSE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not '${v}'`);
  return v;
}

function onOff(name: string, v: string | undefined, fallback: boolean): boolean {
  if (v === undefined || v === '') return fallback;
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new Error(`${name} must be on or off, not '${v}'`);
}

function positiveInteger(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  if (!/^[1-9]\d*$/.test(v)) throw new Error(`${name} must be a positive whole number, not '${v}'`);
  return Number(v);
}
