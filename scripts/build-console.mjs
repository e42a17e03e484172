// Builds the admin console into packages/server/dist/console: one ES module bundle (the console's
// TypeScript, @gatehouse/auth and uPlot), one stylesheet (ours and uPlot's), and the page. The
// server serves these files at /console with a CSP that allows nothing inline.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'packages/server/console');
const out = path.join(root, 'packages/server/dist/console');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [path.join(src, 'src/main.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  minify: true, legalComments: 'eof', outfile: path.join(out, 'app.js'), metafile: true, logLevel: 'warning',
});
const uplotCss = fs.readFileSync(path.join(root, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8');
fs.writeFileSync(path.join(out, 'app.css'), `${uplotCss}\n${fs.readFileSync(path.join(src, 'app.css'), 'utf8')}`);
fs.copyFileSync(path.join(src, 'index.html'), path.join(out, 'index.html'));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
if (process.env.CONSOLE_BUILD_VERBOSE) console.log(`console: ${(bytes / 1024).toFixed(1)} KiB of script`);
