// The size target of issue 12 as a test: an app that signs in (signIn, confirmSignIn, fetchAuthSession,
// signOut), bundled and minified with esbuild for browsers, stays at most 10 KB gzip. `npm run bench`
// prints the figure beside aws-amplify's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('a sign-in app (signIn, confirmSignIn, fetchAuthSession, signOut) bundles to at most 10 KB gzip, without Node modules', async () => {
  const out = await build({
    stdin: {
      contents: `import { configure, signIn, confirmSignIn, fetchAuthSession, signOut } from '@gatehouse/auth';
globalThis.app = { configure, signIn, confirmSignIn, fetchAuthSession, signOut };`,
      resolveDir: root, loader: 'js',
    },
    bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', metafile: true,
  });
  const code = out.outputFiles[0]!.text;
  const gzip = zlib.gzipSync(code, { level: 9 }).length;
  assert.ok(gzip <= 10 * 1024, `${(gzip / 1024).toFixed(1)} KB gzip`);
  assert.deepEqual(Object.keys(out.metafile.inputs).filter((i) => !/^(<stdin>|packages\/(auth|srp)\/dist\/)/.test(i)), []);
});
