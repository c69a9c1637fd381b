// `npm run build` (and npm pack's prepack, so a package packed from a fresh clone is never empty): the SDK and the
// protocol module compiled twice, each with .d.ts files — ES modules to dist/esm (bundlers, browsers, Node's import)
// and CommonJS to dist/cjs (require, Jest, Metro without package exports), whose package.json says so.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
rmSync(join(here, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(here, project)], { stdio: 'inherit' });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
}
writeFileSync(join(here, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
