// Calls a pool's Lambda triggers. A LambdaConfig entry names how: an http(s) URL (the event is
// POSTed as JSON and the answer's `response` taken), a JavaScript module under
// GATEHOUSE_TRIGGERS_DIR exporting a Node.js Lambda `handler(event, context[, callback])`, or a
// Lambda ARN that GATEHOUSE_TRIGGERS maps to one of those. Every call has 5 seconds; its failures
// become Cognito's three Lambda errors, never a 500.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidLambdaResponseException, UnexpectedLambdaException, UserLambdaValidationException } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import type { LoadedPool } from '../pools.js';

export type TriggerName =
  | 'PreSignUp' | 'PostConfirmation' | 'PreAuthentication' | 'PostAuthentication' | 'DefineAuthChallenge' | 'CreateAuthChallenge'
  | 'VerifyAuthChallengeResponse' | 'PreTokenGeneration' | 'UserMigration' | 'CustomMessage' | 'CustomEmailSender' | 'CustomSMSSender'
  | 'InboundFederation';

/** LambdaConfig members that name a trigger directly, and those that carry {LambdaVersion, LambdaArn}. */
export const PLAIN_TRIGGERS = [
  'PreSignUp', 'CustomMessage', 'PostConfirmation', 'PreAuthentication', 'PostAuthentication', 'DefineAuthChallenge',
  'CreateAuthChallenge', 'VerifyAuthChallengeResponse', 'PreTokenGeneration', 'UserMigration',
] as const;
export const VERSIONED_TRIGGERS = ['PreTokenGenerationConfig', 'CustomEmailSender', 'CustomSMSSender', 'InboundFederation'] as const;

/** Cognito gives a trigger 5 seconds. */
export const TRIGGER_TIMEOUT_MS = 5000;
/** Lambda's limit on a synchronous answer. */
const MAX_ANSWER_BYTES = 6 * 1024 * 1024;

export type Target = { kind: 'url'; url: string } | { kind: 'module'; file: string; arn?: string } | { kind: 'unmapped'; arn: string };

export interface TriggerSettings { dir?: string; arns: Record<string, string> }

export class TargetError extends Error {}

/** A path (or file: URL) of a module, which must lie inside `dir`. */
function modulePath(value: string, dir: string | undefined): string {
  if (!dir) throw new TargetError('trigger modules need GATEHOUSE_TRIGGERS_DIR, the directory they load from');
  let file: string;
  try {
    file = value.startsWith('file:') ? fileURLToPath(value) : path.resolve(dir, value);
  } catch {
    throw new TargetError(`not a file URL: ${value}`);
  }
  if (!inside(dir, file)) throw new TargetError(`trigger modules load only from GATEHOUSE_TRIGGERS_DIR: ${value}`);
  return file;
}

function inside(dir: string, file: string) {
  const rel = path.relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel);
}

function urlTarget(value: string): Target | undefined {
  if (!/^https?:\/\//i.test(value)) return undefined;
  try {
    const u = new URL(value);
    if (u.username || u.password) throw new TargetError('a trigger URL may not carry credentials in it');
    return { kind: 'url', url: u.href };
  } catch (e) {
    if (e instanceof TargetError) throw e;
    throw new TargetError(`not a valid URL: ${value}`);
  }
}

/**
 * What a LambdaConfig value names: a URL, a module inside the triggers directory, or an ARN
 * (resolved through GATEHOUSE_TRIGGERS). Anything else throws TargetError.
 */
export function resolveTarget(value: string, settings: TriggerSettings): Target {
  const url = urlTarget(value);
  if (url) return url;
  if (value.startsWith('arn:')) {
    const mapped = Object.hasOwn(settings.arns, value) ? settings.arns[value] : undefined;
    if (mapped === undefined) return { kind: 'unmapped', arn: value };
    return urlTarget(mapped) ?? { kind: 'module', file: modulePath(mapped, settings.dir), arn: value };
  }
  if (value.startsWith('file:') || value.startsWith('/') || value.startsWith('.') || /^[\w@][\w.@/-]*\.(?:m|c)?js$/.test(value)) {
    return { kind: 'module', file: modulePath(value, settings.dir) };
  }
  throw new TargetError(`a trigger must be an http(s) URL, a module in GATEHOUSE_TRIGGERS_DIR or a Lambda ARN: ${value}`);
}

/** The value a pool's LambdaConfig gives a trigger, if any. PreTokenGenerationConfig wins over PreTokenGeneration. */
export function configuredTrigger(pool: LoadedPool, name: TriggerName): { value: string; version?: string } | undefined {
  const l = (pool.config.LambdaConfig ?? {}) as Record<string, unknown>;
  const versioned = (k: string) => {
    const o = l[k] as { LambdaArn?: string; LambdaVersion?: string } | undefined;
    return o?.LambdaArn ? { value: o.LambdaArn, version: o.LambdaVersion } : undefined;
  };
  if (name === 'PreTokenGeneration') return versioned('PreTokenGenerationConfig') ?? (typeof l.PreTokenGeneration === 'string' ? { value: l.PreTokenGeneration, version: 'V1_0' } : undefined);
  if (name === 'CustomEmailSender' || name === 'CustomSMSSender' || name === 'InboundFederation') return versioned(name);
  return typeof l[name] === 'string' ? { value: l[name] as string } : undefined;
}

type Handler = (event: unknown, context: object, callback: (err?: unknown, result?: unknown) => void) => unknown;

/** Why a call failed, for the log and the metrics (never the event or the trigger's message). */
type Failure = 'error' | 'timeout' | 'unreachable' | 'malformed';

class CallFailed extends Error {
  constructor(readonly kind: Failure, message: string) { super(message); }
}

export class Triggers {
  private readonly modules = new Map<string, Promise<Handler>>();
  private readonly timeoutMs = TRIGGER_TIMEOUT_MS;

  constructor(private readonly settings: TriggerSettings, private readonly log: Logger, private readonly metrics?: Metrics) {
    // The map is the operator's: a bad entry stops the start rather than failing sign-ins later.
    for (const [arn, value] of Object.entries(settings.arns)) {
      if (!arn.startsWith('arn:')) throw new Error(`GATEHOUSE_TRIGGERS: ${arn} is not an ARN`);
      const t = resolveTarget(arn, settings);
      if (t.kind === 'unmapped') throw new Error(`GATEHOUSE_TRIGGERS: ${arn} maps to ${value}, which is neither a URL nor a module`);
    }
  }

  /** Whether the pool has this trigger. */
  has(pool: LoadedPool, name: TriggerName) { return configuredTrigger(pool, name) !== undefined; }

  /**
   * Checks a LambdaConfig as CreateUserPool/UpdateUserPool store it; returns the reason a value is
   * refused, or the ARNs nothing maps (accepted, and logged: the trigger fails when it is due).
   */
  check(lambdaConfig: Record<string, unknown> | undefined): { unmapped: string[] } {
    const unmapped: string[] = [];
    for (const [k, v] of Object.entries(lambdaConfig ?? {})) {
      if (k === 'KMSKeyID') continue;
      const value = typeof v === 'string' ? v : (v as { LambdaArn?: string } | undefined)?.LambdaArn;
      if (value === undefined) continue;
      const t = resolveTarget(value, this.settings);
      if (t.kind === 'unmapped') unmapped.push(value);
    }
    return { unmapped };
  }

  /**
   * Calls the pool's trigger with `event` and answers the `response` of the event it returns.
   * UserLambdaValidationException: the trigger failed (threw, or answered an HTTP error), with its
   * message. UnexpectedLambdaException: it could not be called or did not answer in time.
   * InvalidLambdaResponseException: its answer is not an event with a `response` object.
   */
  async invoke(pool: LoadedPool, name: TriggerName, event: Record<string, unknown>): Promise<Record<string, unknown>> {
    const configured = configuredTrigger(pool, name);
    if (!configured) throw new Error(`${name} is not configured`);
    const started = performance.now();
    let outcome = 'ok';
    try {
      let target: Target;
      try {
        target = resolveTarget(configured.value, this.settings);
      } catch {
        throw new CallFailed('unreachable', 'the trigger is not callable');
      }
      if (target.kind === 'unmapped') throw new CallFailed('unreachable', 'its Lambda ARN is not mapped by GATEHOUSE_TRIGGERS');
      const answer = await this.withTimeout(target, name, event);
      return responseOf(answer);
    } catch (e) {
      const failure = e instanceof CallFailed ? e : new CallFailed('unreachable', String((e as Error)?.message ?? e));
      outcome = failure.kind;
      // The trigger's own message goes to the caller as Cognito's does; the log keeps only what went wrong.
      this.log.warn('trigger failed', { poolId: pool.id, trigger: name, failure: failure.kind, ...(failure.kind === 'unreachable' ? { reason: failure.message } : {}) });
      throw publicError(name, failure);
    } finally {
      this.metrics?.trigger(name, outcome, (performance.now() - started) / 1000);
    }
  }

  private async withTimeout(target: Exclude<Target, { kind: 'unmapped' }>, name: TriggerName, event: unknown): Promise<unknown> {
    const deadline = Date.now() + this.timeoutMs;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new CallFailed('timeout', 'timed out'));
      }, this.timeoutMs);
    });
    try {
      const call = target.kind === 'url' ? this.post(target.url, name, event, abort.signal) : this.callModule(target, name, event, deadline);
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async post(url: string, name: TriggerName, event: unknown, signal: AbortSignal): Promise<unknown> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST', redirect: 'error', signal,
        headers: { 'content-type': 'application/json', 'user-agent': 'gatehouse', 'x-gatehouse-trigger': name },
        body: JSON.stringify(event),
      });
      text = await readLimited(res);
    } catch (e) {
      if (e instanceof CallFailed) throw e;
      throw new CallFailed(signal.aborted ? 'timeout' : 'unreachable', `POST failed: ${(e as Error)?.cause ?? (e as Error)?.message ?? e}`);
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      if (res.ok) throw new CallFailed('malformed', 'not JSON');
    }
    if (!res.ok) {
      // A web service fails as a Lambda function does: {errorMessage} (or {message}) and an error status.
      const o = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      const message = typeof o.errorMessage === 'string' ? o.errorMessage : typeof o.message === 'string' ? o.message : `the trigger answered HTTP ${res.status}`;
      throw new CallFailed('error', message);
    }
    return body;
  }

  private loadHandler(file: string): Promise<Handler> {
    let p = this.modules.get(file);
    if (!p) {
      p = (async () => {
        const mod = await import(pathToFileURL(file).href);
        const handler = mod.handler ?? mod.default?.handler ?? (typeof mod.default === 'function' ? mod.default : undefined);
        if (typeof handler !== 'function') throw new CallFailed('unreachable', 'the module exports no handler');
        return handler as Handler;
      })();
      // A module that failed to load is tried again next time (it may have been fixed).
      p.catch(() => this.modules.delete(file));
      this.modules.set(file, p);
    }
    return p;
  }

  private async callModule(target: { file: string; arn?: string }, name: TriggerName, event: unknown, deadline: number): Promise<unknown> {
    const dir = this.settings.dir!;
    let real: string;
    try {
      // Checked again on the real path: a symbolic link must not lead out of the directory.
      real = await fs.promises.realpath(target.file);
      if (!inside(await fs.promises.realpath(dir), real) || !(await fs.promises.stat(real)).isFile()) throw new Error('outside');
    } catch {
      throw new CallFailed('unreachable', 'the module is missing or outside GATEHOUSE_TRIGGERS_DIR');
    }
    let handler: Handler;
    try {
      handler = await this.loadHandler(real);
    } catch (e) {
      throw e instanceof CallFailed ? e : new CallFailed('unreachable', 'the module did not load');
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const ok = (v: unknown) => { if (!settled) { settled = true; resolve(v); } };
      const fail = (e: unknown) => { if (!settled) { settled = true; reject(new CallFailed('error', messageOf(e))); } };
      const callback = (err?: unknown, result?: unknown) => (err ? fail(err) : ok(result));
      const context = {
        functionName: name, functionVersion: '$LATEST', invokedFunctionArn: target.arn ?? '', memoryLimitInMB: '128',
        awsRequestId: crypto.randomUUID(), logGroupName: '', logStreamName: '', callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        succeed: (result: unknown) => ok(result), fail: (err: unknown) => fail(err), done: callback,
      };
      try {
        const r = handler(event, context, callback);
        // An async handler answers with its promise; any other through the callback (or context), or
        // (a convenience Lambda lacks) by returning the event.
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(ok, fail);
        else if (r !== undefined) ok(r);
      } catch (e) {
        fail(e);
      }
    });
  }
}

async function readLimited(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_ANSWER_BYTES) throw new CallFailed('malformed', 'answer too large');
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new CallFailed('malformed', 'answer too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof e === 'string' ? e : (e as { errorMessage?: unknown })?.errorMessage ?? JSON.stringify(e);
  return String(m).slice(0, 2048);
}

/** The event a trigger returns must carry a `response` object; that is all Cognito reads of it. */
function responseOf(answer: unknown): Record<string, unknown> {
  const r = answer && typeof answer === 'object' && !Array.isArray(answer) ? (answer as Record<string, unknown>).response : undefined;
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new CallFailed('malformed', 'no response object');
  return r as Record<string, unknown>;
}

/** What the caller is told, in Cognito's words; never where the trigger lives. */
function publicError(name: TriggerName, f: CallFailed): Error {
  switch (f.kind) {
    case 'error': return new UserLambdaValidationException(`${name} failed with error ${f.message}.`);
    case 'malformed': return new InvalidLambdaResponseException(`Unrecognizable lambda output from ${name}.`);
    case 'timeout': return new UnexpectedLambdaException(`${name} failed: the trigger did not answer within ${TRIGGER_TIMEOUT_MS / 1000} seconds.`);
    default: return new UnexpectedLambdaException(`${name} failed: the trigger could not be called.`);
  }
}

/** A trigger's answer is not what Cognito allows (a wrong type, a missing placeholder). */
export function invalidResponse(name: TriggerName, what: string): Error {
  return new InvalidLambdaResponseException(`Invalid ${name} response: ${what}`);
}
