// `npm run build` (and npm pack's prepack): the TypeScript compiled to dist/ with .d.ts, then the plain JavaScript
// processes (the functions' host and its resolve hook, the janitor) copied as they are beside the modules that
// start them by a path relative to their own. The command (bin/, which imports dist/) is made executable.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
rmSync(join(here, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);
for (const folder of ['cdk-app', 'process']) {
  for (const file of readdirSync(join(here, folder)).filter((name) => name.endsWith('.mjs'))) {
    copyFileSync(join(here, folder, file), join(here, 'dist', folder, file));
  }
}
const { bin } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
for (const file of Object.values(bin)) chmodSync(join(here, file), 0o755);
