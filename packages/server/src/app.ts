import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import crypto from 'node:crypto';
import cluster from 'node:cluster';
import net from 'node:net';
import { loadConfig, type Config } from './config.js';
import type { Logger as Pino } from 'pino';
import { createPino, domainLogger } from './log.js';
import { openRepository } from './storage/open.js';
import { withConfigCache } from './storage/cache.js';
import { Secrets } from './domain/secrets.js';
import { Messenger } from './domain/messages.js';
import { TokenService } from './domain/tokens.js';
import { Triggers } from './domain/triggers/runtime.js';
import { parsePool } from './domain/pools.js';
import type { Ctx } from './domain/context.js';
import { operations } from './wire/operations.js';
import { verifySigV4 } from './wire/sigv4.js';
import { cognitoModel, parseBody } from './wire/model.js';
import { Metrics, clusterWorkerMetrics } from './metrics.js';
import { CognitoError, InternalErrorException, RequestEntityTooLargeException, SerializationException, UnknownOperationException, ResourceNotFoundException } from './errors.js';
import './ops/index.js';
import { registerImportUpload } from './wire/import-upload.js';
import { bearerToken, registerConsole } from './wire/console.js';
import type { Operator } from './domain/operators.js';
import { registerHosted } from './hosted/index.js';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const BODY_LIMIT = 512 * 1024;

export interface RunningServer { url: string; port: number; ctx: Ctx; app: FastifyInstance; close(): Promise<void> }

function sendError(reply: FastifyReply, err: CognitoError) {
  return reply.code(err.status).header('x-amzn-errortype', err.name).header('content-type', 'application/x-amz-json-1.1')
    .send(JSON.stringify({ __type: err.name, message: err.message }));
}

/** For signed calls made on a user's behalf: the user's address, from ContextData, if it is one. */
function endUserIp(input: { ContextData?: { IpAddress?: string } }): string | undefined {
  const ip = input.ContextData?.IpAddress;
  return ip !== undefined && net.isIP(ip) ? ip : undefined;
}

/** A hop count trusts that many proxies nearest the server; fastify's types take it as a function. */
function trustProxy(t: Config['trustProxy']) {
  return typeof t === 'number' ? (_address: string, hop: number) => hop < t : t;
}

/**
 * Slow-body attack: a client that sends headers and then trickles its body would hold a connection
 * (and the request's memory) for the server's whole requestTimeout, which is long for CSV uploads.
 * An API request's body must arrive within `ms`; past that it is answered 408 and its connection
 * closed. Uploads (PUT /import/...) stream for minutes and keep the long timeout.
 */
function bodyDeadline(req: FastifyRequest, reply: FastifyReply, ms: number) {
  if (req.raw.complete || (req.method === 'PUT' && req.url.startsWith('/import/'))) return;
  const timer = setTimeout(() => {
    if (req.raw.complete || reply.sent) return;
    reply.hijack(); // the body reader fails when the connection closes; nothing else may answer
    const body = JSON.stringify({ __type: 'RequestTimeoutException', message: 'The request body did not arrive in time.' });
    reply.raw.writeHead(408, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'RequestTimeoutException', 'content-length': Buffer.byteLength(body), connection: 'close' });
    reply.raw.end(body, () => req.raw.socket?.destroy());
  }, ms);
  timer.unref();
  req.raw.once('end', () => clearTimeout(timer));
  reply.raw.once('close', () => clearTimeout(timer));
}

function cors(req: FastifyRequest, reply: FastifyReply) {
  reply.header('access-control-allow-origin', req.headers.origin ?? '*');
  reply.header('vary', 'origin');
  reply.header('access-control-expose-headers', 'x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, date');
}

export async function buildApp(config: Config, logger: Pino = createPino(config.logLevel)): Promise<{ app: FastifyInstance; ctx: Ctx }> {
  const log = domainLogger(logger);
  const repo = withConfigCache(await openRepository({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }), 1000);
  const secrets = new Secrets(config.masterKey);
  const metrics = new Metrics();
  const ctx: Ctx = {
    repo, config, secrets, log, now: () => Date.now(), metrics, triggers: new Triggers(config.triggers, log, metrics),
    messages: new Messenger(repo, secrets, log, { smtpUrl: config.smtpUrl, emailFrom: config.emailFrom, smsWebhookUrl: config.smsWebhookUrl }),
    tokens: new TokenService(repo, secrets, config.publicUrl),
  };
  // Letters for CustomEmailSender / CustomSMSSender go to the pool's trigger, after the answer and
  // with the outbox's retries, as Cognito calls those triggers asynchronously.
  ctx.messages.deliverSendersWith(async (poolId, call) => {
    const row = await repo.getPool(poolId);
    const pool = row && parsePool(row);
    if (!pool || !ctx.triggers.has(pool, call.trigger)) {
      log.warn('message dropped: its pool no longer has the sender trigger', { poolId, trigger: call.trigger });
      return;
    }
    try {
      await ctx.triggers.invoke(pool, call.trigger, call.event as Record<string, unknown>);
    } catch (e) {
      // The outbox logs this; the trigger's own message might quote the code.
      throw new Error(`${call.trigger} failed (${(e as Error).name})`);
    }
  });
  // fastify logs through our pino instance, but not each request: its request lines carry the URL (an
  // upload's token) and we write our own debug line with no request content.
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }),
    ...(config.tls ? { https: { cert: config.tls.cert, key: config.tls.key } } : {}),
    bodyLimit: BODY_LIMIT, requestTimeout: 600_000 /* CSV uploads of up to 100 MB stream through; API bodies are bounded by bodyLimit */, trustProxy: trustProxy(config.trustProxy), return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', async (req, reply) => cors(req, reply));
  app.addHook('onRequest', (req, reply, done) => { bodyDeadline(req, reply, config.bodyTimeoutMs); done(); });
  app.addHook('onClose', async () => repo.close());
  // Draining at shutdown: answers sent once close() has begun end their connection, so a keep-alive
  // client of a request in flight does not hold the process open for keepAliveTimeout (72 s).
  let draining = false;
  app.addHook('preClose', (done) => { draining = true; done(); });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });

  app.setErrorHandler((err: any, req, reply) => {
    if (err instanceof CognitoError) return sendError(reply, err);
    if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, new RequestEntityTooLargeException('Request body is too large'));
    if (typeof err?.statusCode === 'number' && err.statusCode < 500) return sendError(reply, new SerializationException(String(err.message)));
    log.error('internal error', { url: req.url.split('?')[0] /* an upload URL's query is its token */, error: String(err?.stack ?? err) });
    return sendError(reply, new InternalErrorException('Internal server error'));
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new ResourceNotFoundException(`No route for ${req.method} ${req.url.split('?')[0]}`)));

  app.options('/*', async (req, reply) => {
    reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
    reply.header('access-control-allow-headers', req.headers['access-control-request-headers'] ?? '*');
    reply.header('access-control-max-age', '86400');
    return reply.code(204).send();
  });

  app.get('/health', async (_req, reply) => {
    await repo.ping();
    return reply.send({ status: 'ok' });
  });

  // Prometheus. With several processes, the worker that takes the scrape gathers all workers' figures.
  const gather = cluster.isWorker ? clusterWorkerMetrics(ctx.metrics) : () => ctx.metrics.registry.metrics();
  app.get('/metrics', async (_req, reply) => reply.header('content-type', ctx.metrics.registry.contentType).send(await gather()));

  app.get('/:poolId/.well-known/jwks.json', async (req, reply) => {
    const { poolId } = req.params as { poolId: string };
    if (!(await repo.getPool(poolId))) throw new ResourceNotFoundException('User pool does not exist.');
    return reply.header('cache-control', 'public, max-age=300').send(await ctx.tokens.jwks(poolId));
  });
  registerHosted(app, ctx);
  registerImportUpload(app, ctx);
  // The console, and its system pool of operators made now if this is the first start.
  const consoleAccess = config.console ? registerConsole(app, ctx) : undefined;
  if (consoleAccess) await consoleAccess.ids();

  // One debug line per request, with no request or response content: never codes, passwords or tokens.
  const debug = config.logLevel === 'debug';
  const model = cognitoModel();
  // Tests set this so that an answer drifting from the model's output shape fails the suite that caused it.
  const checkResponses = process.env.GATEHOUSE_CHECK_RESPONSES === '1';
  app.post('/*', async (req, reply) => {
    const started = performance.now();
    const requestId = crypto.randomUUID();
    reply.header('x-amzn-requestid', requestId);
    const target = req.headers['x-amz-target'];
    const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const op = operations.get(name);
    // Only known operation names become metric labels, so callers cannot grow the metrics.
    const label = op ? name : 'unknown';
    let outcome = 'ok';
    // An operator's call from the console (a bearer token in place of a signature), written to the audit log.
    let operator: Operator | undefined;
    let input: object = {};
    try {
      if (!op) throw new UnknownOperationException(name ? `Unknown operation ${name}` : 'Missing or malformed x-amz-target header');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const token = op.signed && consoleAccess ? bearerToken(req) : undefined;
      if (token !== undefined) {
        operator = await consoleAccess!.operator(req, reply, token);
        try { input = parseBody(body); } catch { /* answered below */ }
      } else if (op.signed) {
        await verifySigV4({ method: req.method, url: req.raw.url ?? '/', headers: req.headers, body }, {
          service: 'cognito-idp',
          lookupSecret: (id) => (id === config.admin.accessKeyId ? config.admin.secretAccessKey : undefined),
        });
      }
      input = model.readInput(name, parseBody(body)) as { ContextData?: { IpAddress?: string } };
      if (operator) await consoleAccess!.refuseSelfHarm(name, input);
      const out = await op.handler({ ...ctx, ip: op.signed ? endUserIp(input) : req.ip }, input, { ip: req.ip, headers: req.headers });
      const drift = checkResponses ? model.checkOutput(name, out) : [];
      if (drift.length) {
        log.error('response drifts from the model', { op: name, drift });
        throw new InternalErrorException('Response does not match the model');
      }
      if (operator) await consoleAccess!.audit(operator, name, input, out, outcome, req.ip);
      return reply.header('content-type', 'application/x-amz-json-1.1').send(JSON.stringify(out));
    } catch (e) {
      outcome = e instanceof CognitoError ? e.name : 'InternalErrorException';
      if (operator) await consoleAccess!.audit(operator, name, input, undefined, outcome, req.ip);
      throw e;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      ctx.metrics.request(label, outcome, seconds);
      if (debug) log.debug('request', { op: label, requestId, ip: req.ip, outcome, ms: Math.round(seconds * 1000) });
    }
  });

  return { app, ctx };
}

/** At start, each pool's trigger ARNs that GATEHOUSE_TRIGGERS does not map: they would fail when due. */
async function logUnmappedTriggers(ctx: Ctx) {
  let after: string | undefined;
  do {
    const page = await ctx.repo.listPools(60, after);
    for (const row of page.items) {
      let unmapped: string[] = [];
      try {
        ({ unmapped } = ctx.triggers.check(JSON.parse(row.config).LambdaConfig));
      } catch (e) {
        ctx.log.warn('a trigger of this pool cannot be called', { poolId: row.id, reason: (e as Error).message });
      }
      for (const arn of unmapped) ctx.log.warn('trigger ARN not mapped by GATEHOUSE_TRIGGERS: the trigger will fail when it is due', { poolId: row.id, arn });
    }
    after = page.next;
  } while (after);
}

/** Starts a server; PORT 0 picks a free port (tests use that). */
export async function startServer(config: Config = loadConfig(), logger?: Pino): Promise<RunningServer> {
  const { app, ctx } = await buildApp(config, logger);
  await app.listen({ port: config.port, host: config.host });
  logUnmappedTriggers(ctx).catch((e) => ctx.log.warn('trigger check failed', { error: String(e) }));
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const sweep = setInterval(() => {
    const now = Date.now();
    ctx.repo.sweep(now).catch((e) => ctx.log.warn('sweep failed', { error: String(e) }));
    ctx.repo.sweepCounters(now).catch((e) => ctx.log.warn('sweep failed', { error: String(e) }));
  }, 60_000);
  sweep.unref();
  ctx.messages.start();
  // The outbox stops claiming first; a message it was sending is left to its claim's end (see messages.ts).
  return { url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, ctx, app, close: async () => { clearInterval(sweep); ctx.messages.stop(); await app.close(); } };
}
