// The root package's bins (`npx gatehouse …` on a fresh clone) are run directly, so they must be
// executable. tsc writes them 0644, and npm marks a bin only if it already exists when npm links
// it, which depends on the order of install and build: mark them here, after every build.
import fs from 'node:fs';

const { bin } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(bin ?? {})) {
  const path = new URL(`../${file}`, import.meta.url);
  fs.chmodSync(path, fs.statSync(path).mode | 0o111);
}
