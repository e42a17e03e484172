// The admin console: its static files at /console (a strict CSP, no inline script or style), its
// settings for the browser, the operators' bearer-token access to the admin operations, and the
// few read-only views the Cognito API has no operation for (activity, audit log, import progress).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { AccessDeniedException, CognitoError, InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import { auditEntry, ensureConsolePool, operatorOf, refuseSelfHarm, type ConsoleIds, type Operator } from '../domain/operators.js';
import { poolActivity, ACTIVITY_RANGES, type ActivityRange } from '../domain/activity.js';
import { loadPool } from '../domain/pools.js';
import { loadImportJob } from '../domain/user-import.js';

/** The built console (scripts/build-console.mjs writes it next to the server's build). */
const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../console');

/** The header the console sets on every call: a cross-site form or image cannot, and a cross-site script must ask first (CORS). */
export const CONSOLE_HEADER = 'x-gatehouse-console';

const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "font-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'", 'trusted-types',
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json',
};

interface Asset { body: Buffer; type: string; etag: string }

function loadAssets(): Map<string, Asset> | undefined {
  if (!fs.existsSync(path.join(CONSOLE_DIR, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(CONSOLE_DIR)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = fs.readFileSync(path.join(CONSOLE_DIR, name));
    assets.set(name, { body, type, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

function hardened(reply: FastifyReply) {
  // The console's pages and answers are for the console alone: no framing, sniffing, referrers or other origins.
  reply.removeHeader('access-control-allow-origin');
  reply.removeHeader('access-control-expose-headers');
  return reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer').header('cross-origin-opener-policy', 'same-origin').header('cross-origin-resource-policy', 'same-origin');
}

/** The console's bearer token, if the request carries one (SigV4 requests carry `AWS4-HMAC-SHA256 …`). */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && /^Bearer [A-Za-z0-9._-]+$/.test(h) ? h.slice(7) : undefined;
}

export class ConsoleAccess {
  private idsAt = 0;
  private current?: Promise<ConsoleIds>;

  constructor(private ctx: Ctx) {}

  /** The system pool and console client; read again now and then, as another process may have made the client again. */
  ids(): Promise<ConsoleIds> {
    if (!this.current || this.ctx.now() - this.idsAt > 10_000) {
      this.idsAt = this.ctx.now();
      this.current = ensureConsolePool(this.ctx);
      this.current.catch(() => { this.current = undefined; });
    }
    return this.current;
  }

  /**
   * CSRF: the console's header, and a browser's Origin and Sec-Fetch-Site (when sent) naming this
   * server. The token itself is no cookie, so a page elsewhere has nothing to borrow; this refuses
   * what would be sent from one all the same.
   */
  private fromConsole(req: FastifyRequest) {
    if (req.headers[CONSOLE_HEADER] !== '1') return false;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const own = [new URL(this.ctx.config.publicUrl).origin, `${req.protocol}://${req.headers.host ?? ''}`];
    return own.includes(origin);
  }

  /**
   * The operator making a console request, or a refusal. A token that is no longer good (expired,
   * signed out, its user disabled) is answered with WWW-Authenticate, so the console can tell
   * "sign in again" from an operation's own NotAuthorizedException.
   */
  async operator(req: FastifyRequest, reply: FastifyReply, token: string): Promise<Operator> {
    if (!this.fromConsole(req)) throw new AccessDeniedException(`Console requests must come from the console: the ${CONSOLE_HEADER} header, from this server's origin.`);
    try {
      return await operatorOf(this.ctx, await this.ids(), token);
    } catch (e) {
      if (e instanceof CognitoError && e.name === 'NotAuthorizedException') reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw e;
    }
  }

  async refuseSelfHarm(operation: string, input: object) {
    refuseSelfHarm(await this.ids(), operation, input);
  }

  /** Writes the audit entry of a console call before it is answered; a failed write is logged, not answered. */
  async audit(operator: Operator, operation: string, input: object, output: object | undefined, outcome: string, ip: string) {
    try {
      await this.ctx.repo.addAudit(auditEntry(operator, operation, input, output, outcome, ip, this.ctx.now()));
    } catch (e) {
      this.ctx.log.error('audit entry not written', { operation, operator: operator.sub, outcome, error: String((e as Error)?.message ?? e) });
    }
  }
}

function query(req: FastifyRequest): Record<string, string | undefined> {
  const q = req.query as Record<string, unknown>;
  return Object.fromEntries(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));
}

export function registerConsole(app: FastifyInstance, ctx: Ctx): ConsoleAccess {
  const access = new ConsoleAccess(ctx);
  const assets = loadAssets();
  if (!assets) ctx.log.warn('the console is not built (npm run build); /console answers 503', { dir: CONSOLE_DIR });

  const serve = (req: FastifyRequest, reply: FastifyReply, name: string) => {
    hardened(reply);
    if (!assets) return reply.code(503).type('text/plain').send('The console is not built: run npm run build.');
    const a = assets.get(name);
    if (!a) return reply.code(404).type('text/plain').send('Not found');
    reply.header('etag', a.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  app.get('/console', async (_req, reply) => hardened(reply).redirect('/console/', 302));
  app.get('/console/', async (req, reply) => serve(req, reply, 'index.html'));
  app.get('/console/config.json', async (_req, reply) => {
    const { poolId, clientId } = await access.ids();
    return hardened(reply).header('cache-control', 'no-store').send({ userPoolId: poolId, userPoolClientId: clientId });
  });
  app.get('/console/:file', async (req, reply) => serve(req, reply, (req.params as { file: string }).file));

  /** The console's own read-only views: the same operator check as the admin operations. */
  const view = (url: string, handler: (req: FastifyRequest) => Promise<object>) => {
    app.get(url, async (req, reply) => {
      hardened(reply).header('cache-control', 'no-store');
      const token = bearerToken(req);
      if (!token) throw new AccessDeniedException('Sign in to the console first.');
      await access.operator(req, reply, token);
      return reply.send(await handler(req));
    });
  };
  view('/console/api/activity', async (req) => {
    const { pool, range = 'hour' } = query(req);
    if (!Object.hasOwn(ACTIVITY_RANGES, range)) throw new InvalidParameterException(`range must be one of ${Object.keys(ACTIVITY_RANGES).join(', ')}`);
    const loaded = await loadPool(ctx, pool ?? '');
    return poolActivity(ctx, loaded.id, range as ActivityRange);
  });
  view('/console/api/audit', async (req) => {
    const { pool, writes, before, limit } = query(req);
    if (before !== undefined && !/^\d{1,15}:[0-9a-f-]{36}$/.test(before)) throw new InvalidParameterException('Invalid before cursor');
    const n = Math.min(Math.max(Number(limit) || 50, 1), 200);
    const page = await ctx.repo.listAudit({ poolId: pool || undefined, writesOnly: writes === '1' }, n, before);
    return { entries: page.items, next: page.next };
  });
  view('/console/api/import-jobs/:jobId', async (req) => {
    const { jobId } = req.params as { jobId: string };
    const { pool } = query(req);
    const job = await loadImportJob(ctx, jobId);
    if (!job || job.pool_id !== pool) throw new ResourceNotFoundException(`Import job ${jobId} does not exist.`);
    // The file's record count, rows done and failed rows by line: what DescribeUserImportJob cannot say.
    return { status: job.status, records: job.csv_records, done: job.rows_done, failed: job.failed, failures: JSON.parse(job.failures), fileProblem: job.csv_error };
  });
  return access;
}
