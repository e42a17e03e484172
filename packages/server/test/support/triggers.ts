// Lambda triggers for tests, in both forms Gatehouse calls: modules in a temporary
// GATEHOUSE_TRIGGERS_DIR, and the same modules behind a tiny HTTP server, so one trigger's code
// is exercised as a module and as a URL. Triggers append the events they receive to events.jsonl
// in the directory, which the tests read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { pathToFileURL } from 'node:url';

/** The error a call fails with (the test fails if it succeeds). */
export async function errorOf(p: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try { await p; } catch (e) { return e as Error & { name: string }; }
  throw new Error('expected an error');
}

export type Form = 'module' | 'url';
export const FORMS: Form[] = ['module', 'url'];

/** What every trigger module starts with: `record(event)` keeps the event for the test. */
const PRELUDE = `
import fs from 'node:fs';
const LOG = new URL('./events.jsonl', import.meta.url);
export function record(event) { fs.appendFileSync(LOG, JSON.stringify(event) + '\\n'); }
`;

export class TriggerKit {
  readonly dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-triggers-')));
  private server?: http.Server;
  port = 0;
  /** Requests the HTTP form received, by path. */
  readonly hits = new Map<string, number>();

  /** Writes a trigger module: `body` is the source after the prelude (it must export `handler`). */
  module(name: string, body: string): string {
    fs.writeFileSync(path.join(this.dir, name), PRELUDE + body);
    return name;
  }

  /** Writes a file as is (CommonJS modules, broken modules). */
  raw(name: string, text: string): string {
    fs.writeFileSync(path.join(this.dir, name), text);
    return name;
  }

  /** The LambdaConfig value for a module in the chosen form. */
  target(form: Form, name: string): string {
    return form === 'module' ? name : `${this.url}/${name}`;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  /**
   * The HTTP form: POST /<module> runs the module's handler in this process and answers the event
   * it returns; a handler that throws answers 500 with {errorType, errorMessage}, as Lambda reports
   * a function error. /slow never answers in time, /html answers something that is not JSON.
   */
  async start() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', async () => {
        const name = (req.url ?? '/').slice(1);
        this.hits.set(name, (this.hits.get(name) ?? 0) + 1);
        const send = (status: number, v: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(typeof v === 'string' ? v : JSON.stringify(v));
        };
        try {
          const mod = await import(pathToFileURL(path.join(this.dir, name)).href + `?v=${fs.statSync(path.join(this.dir, name)).mtimeMs}`);
          const out = await mod.handler(JSON.parse(body), {});
          send(200, out);
        } catch (e) {
          send(500, { errorType: 'Error', errorMessage: (e as Error).message });
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Events the triggers received, oldest first; `source` filters by triggerSource. */
  events(source?: string): any[] {
    const file = path.join(this.dir, 'events.jsonl');
    if (!fs.existsSync(file)) return [];
    const all = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return source ? all.filter((e) => e.triggerSource === source) : all;
  }

  clearEvents() { fs.rmSync(path.join(this.dir, 'events.jsonl'), { force: true }); }

  async stop() {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The custom-auth trio as AWS's guide writes it: a question, the answer 42, three tries. */
export const CUSTOM_AUTH_MODULES = {
  'define.mjs': `
export const handler = async (event) => {
  record(event);
  const s = event.request.session;
  const last = s[s.length - 1];
  const wrong = s.filter((c) => c.challengeName === 'CUSTOM_CHALLENGE' && !c.challengeResult).length;
  if (last && last.challengeName === 'SRP_A') {
    event.response.challengeName = 'PASSWORD_VERIFIER';
  } else if (last && last.challengeName === 'CUSTOM_CHALLENGE' && last.challengeResult) {
    event.response.issueTokens = true;
    event.response.failAuthentication = false;
  } else if (wrong >= 3 || (last && last.challengeName === 'PASSWORD_VERIFIER' && !last.challengeResult)) {
    event.response.issueTokens = false;
    event.response.failAuthentication = true;
  } else {
    event.response.challengeName = 'CUSTOM_CHALLENGE';
    event.response.issueTokens = false;
    event.response.failAuthentication = false;
  }
  return event;
};`,
  'create.mjs': `
export const handler = async (event) => {
  record(event);
  const round = event.request.session.filter((c) => c.challengeName === 'CUSTOM_CHALLENGE').length + 1;
  event.response.publicChallengeParameters = { question: 'What is 6 times 7?', round: String(round) };
  event.response.privateChallengeParameters = { answer: '42' };
  event.response.challengeMetadata = 'QUESTION-' + round;
  return event;
};`,
  'verify.mjs': `
export const handler = async (event) => {
  record(event);
  event.response.answerCorrect = event.request.challengeAnswer === event.request.privateChallengeParameters.answer;
  return event;
};`,
};
