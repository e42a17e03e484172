// A browser for the hosted sign-in tests: Debian's Chromium driven by playwright-core, and a small
// web app made with aws-amplify (bundled by esbuild) served on localhost.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

/** The app's origin: a plain HTTP server on localhost (a secure context, as browsers treat loopback). */
export interface App { url: string; close(): Promise<void> }

export async function bundleAmplifyApp(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(here, 'browser/amplify-app.ts')], bundle: true, write: false, format: 'esm', platform: 'browser',
    target: 'es2020', minify: true, logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  return out.outputFiles[0].text;
}

export async function serveApp(bundle: string, config: () => object): Promise<App> {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/app.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(bundle);
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><html><body><h1>app</h1><script>window.GATEHOUSE_APP=${JSON.stringify(config())}</script><script type="module" src="/app.js"></script></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://localhost:${port}/`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--ignore-certificate-errors', '--no-sandbox'], headless: true });
}

/** Waits until the app holds tokens (the OAuth listener exchanged the code), or fails with what it saw. */
export async function appTokens(page: Page): Promise<{ access: string; id: string }> {
  await page.waitForFunction(() => (window as any).app && (window as any).appEvents.some((e: string) => e.startsWith('signInWithRedirect')), undefined, { timeout: 15000 })
    .catch(async () => { throw new Error(`no sign-in; events: ${JSON.stringify(await page.evaluate(() => (window as any).appEvents))} at ${page.url()}`); });
  return page.evaluate(() => (window as any).app.tokens());
}

