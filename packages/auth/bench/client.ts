// Client benchmark, @gatehouse/auth side by side with aws-amplify in one run (prints, asserts nothing):
// - gzip size of an app using signIn, confirmSignIn, fetchAuthSession and signOut, bundled and minified with esbuild;
// - client CPU per SRP sign-in in Node (process CPU time; the server is another process) and in headless
//   Chromium (main-thread task time from the DevTools protocol), each against a real Gatehouse.
// BENCH_CLIENT_N sets the measured sign-ins per client (default 20); BENCH_SKIP_BROWSER=1 skips Chromium.
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, createPoolAndClient, unrefLongClientTimers } from '../../server/test/support/harness.js';

unrefLongClientTimers();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const N = Number(process.env.BENCH_CLIENT_N ?? 20);
const PASSWORD = 'Bench-Passw0rd!';

const apps = {
  'aws-amplify': `import { Amplify } from 'aws-amplify';
import { signIn, confirmSignIn, fetchAuthSession, signOut } from 'aws-amplify/auth';
globalThis.bench = { configure: (c) => Amplify.configure(c), signIn, confirmSignIn, fetchAuthSession, signOut };`,
  '@gatehouse/auth': `import { configure, signIn, confirmSignIn, fetchAuthSession, signOut } from '@gatehouse/auth';
globalThis.bench = { configure, signIn, confirmSignIn, fetchAuthSession, signOut };`,
};
type Name = keyof typeof apps;
const names = Object.keys(apps) as Name[];

async function bundle(name: Name) {
  const out = await build({
    stdin: { contents: apps[name], resolveDir: root, loader: 'js' }, bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
    write: false, define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  return { code, raw: Buffer.byteLength(code), gzip: zlib.gzipSync(code, { level: 9 }).length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

interface Bench { configure(c: unknown): void; signIn(i: unknown): Promise<unknown>; signOut(): Promise<void> }

async function main() {
  const bundles = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await bundle(n)] as const))) as Record<Name, Awaited<ReturnType<typeof bundle>>>;

  const gh = await startGatehouse();
  try {
    const { poolId, clientId } = await createPoolAndClient(gh, { UsernameAttributes: undefined, Schema: undefined, AutoVerifiedAttributes: undefined });
    const username = 'bench-user';
    await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: username, MessageAction: 'SUPPRESS' }));
    await gh.admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true }));
    const config = { Auth: { Cognito: { userPoolId: poolId, userPoolClientId: clientId, userPoolEndpoint: gh.url } } };

    // Node: the published modules as an app would import them.
    const node: Record<string, number[]> = {};
    for (const name of names) {
      const { Amplify } = await import('aws-amplify');
      const mod = (name === 'aws-amplify'
        ? { ...(await import('aws-amplify/auth')), configure: (c: never) => Amplify.configure(c) }
        : await import('@gatehouse/auth')) as unknown as Bench;
      mod.configure(config);
      const samples: number[] = [];
      for (let i = 0; i < N + 3; i++) {
        const t = process.cpuUsage();
        await mod.signIn({ username, password: PASSWORD });
        const d = process.cpuUsage(t);
        if (i >= 3) samples.push((d.user + d.system) / 1000);
        await mod.signOut();
      }
      node[name] = samples;
    }

    // Chromium: a page per bundle, same server.
    const browser: Record<string, number[]> = {};
    if (!process.env.BENCH_SKIP_BROWSER) {
      const { chromium } = await import('playwright-core');
      const site = http.createServer((req, res) => {
        const name = decodeURIComponent((req.url ?? '').slice(1).replace(/\.js$/, '')) as Name;
        if (bundles[name]) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundles[name].code);
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title>');
      });
      await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
      const origin = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
      const chrome = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
      try {
        for (const name of names) {
          const page = await chrome.newPage();
          await page.goto(`${origin}/`);
          await page.addScriptTag({ url: `${origin}/${encodeURIComponent(name)}.js`, type: 'module' });
          await page.waitForFunction(() => (globalThis as { bench?: unknown }).bench);
          await page.evaluate((c) => (globalThis as unknown as { bench: Bench }).bench.configure(c), config);
          const cdp = await page.context().newCDPSession(page);
          await cdp.send('Performance.enable');
          const taskTime = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')!.value * 1000;
          const samples: number[] = [];
          for (let i = 0; i < N + 3; i++) {
            const before = await taskTime();
            await page.evaluate(([u, p]) => (globalThis as unknown as { bench: Bench }).bench.signIn({ username: u, password: p }), [username, PASSWORD] as const);
            const spent = (await taskTime()) - before;
            if (i >= 3) samples.push(spent);
            await page.evaluate(() => (globalThis as unknown as { bench: Bench }).bench.signOut());
          }
          browser[name] = samples;
          await page.close();
        }
      } finally {
        await chrome.close();
        site.close();
      }
    }

    const [amp, ours] = names;
    console.log(`\nclient benchmark: ${N} SRP sign-ins per client, medians`);
    console.log('| measure | aws-amplify | @gatehouse/auth | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| app bundle (signIn, confirmSignIn, fetchAuthSession, signOut), minified | ${kb(bundles[amp!].raw)} | ${kb(bundles[ours!].raw)} | ${(bundles[ours!].raw / bundles[amp!].raw).toFixed(2)} |`);
    console.log(`| same, gzip -9 | ${kb(bundles[amp!].gzip)} | ${kb(bundles[ours!].gzip)} | ${(bundles[ours!].gzip / bundles[amp!].gzip).toFixed(2)} |`);
    const row = (label: string, r: Record<string, number[]>) =>
      r[amp!] && console.log(`| ${label} | ${median(r[amp!]!).toFixed(1)} ms | ${median(r[ours!]!).toFixed(1)} ms | ${(median(r[ours!]!) / median(r[amp!]!)).toFixed(2)} |`);
    row('client CPU per SRP sign-in, Node', node);
    row('client main-thread time per SRP sign-in, Chromium', browser);
  } finally {
    await gh.stop();
  }
}

await main();
