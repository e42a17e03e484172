// The SMS side of the tests: a webhook that keeps what the server posts (README: {phoneNumber, message}).
import http from 'node:http';

export interface Sms { phoneNumber: string; message: string; at: number }

export class SmsCatcher {
  readonly messages: Sms[] = [];
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try { this.messages.push({ ...JSON.parse(body), at: Date.now() }); } catch { /* not ours */ }
      res.end('ok');
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/sms`;
    return this;
  }
  /** The code of the newest SMS to `phone` sent at or after `since`, waiting for it a while. */
  async code(phone: string, since = 0, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const m = this.messages.filter((x) => x.phoneNumber === phone && x.at >= since).at(-1);
      const code = m && /(\d{6})/.exec(m.message)?.[1];
      if (code) return code;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no SMS to ${phone}`);
  }
  close() { return new Promise<void>((r) => this.server.close(() => r())); }
}
