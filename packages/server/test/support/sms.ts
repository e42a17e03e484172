// A stand-in for the SMS webhook (README: every SMS is POSTed as {"phoneNumber", "message"}), so
// tests read texted codes the way users do. `failing` makes it answer 500, `delayMs` slow.
import http from 'node:http';

export interface Text { phoneNumber: string; message: string; at: number }

export class SmsCatcher {
  readonly texts: Text[] = [];
  failing = false;
  /** Answers (and records) each text only after this many milliseconds: a slow SMS provider. */
  delayMs = 0;
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (this.failing) { res.statusCode = 500; res.end(); return; }
      setTimeout(() => {
        const t = JSON.parse(body) as { phoneNumber: string; message: string };
        this.texts.push({ ...t, at: Date.now() });
        res.end('ok');
      }, this.delayMs);
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/sms`;
    return this;
  }
  /** The code in the newest text to `phone` that arrived after `since`. */
  async code(phone: string, since = 0, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const t = this.texts.filter((x) => x.phoneNumber === phone && x.at >= since).at(-1);
      const m = t && /(\d{6})/.exec(t.message);
      if (m) return m[1];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no text to ${phone}`);
  }
  sentTo(phone: string) { return this.texts.filter((t) => t.phoneNumber === phone).length; }
  close() { return new Promise<void>((r) => this.server.close(() => r())); }
}
