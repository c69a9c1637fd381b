/**
 * The SDK package's build (client/dist), made once before the tests that run on it — the web page, the React
 * Native-style harness, the size budget, the README examples — so they exercise what `npm publish` would ship, not
 * the source. Skipped when the build is newer than every source it comes from.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STAMP = `${root}client/dist/.built`;

/** The sources of the build: the SDK, the protocol module and the configuration. */
function newestSource(): number {
  const files = [
    ...readdirSync(`${root}client`).filter((f) => f.endsWith('.ts')).map((f) => `${root}client/${f}`),
    ...readdirSync(`${root}protocol`).filter((f) => f.endsWith('.ts')).map((f) => `${root}protocol/${f}`),
    `${root}client/package.json`,
    `${root}client/tsconfig.build.json`,
    `${root}tsconfig.json`,
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function builtAt(): number {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds client/dist from scratch unless it is up to date. */
export function buildClient(): void {
  if (builtAt() > newestSource()) return;
  rmSync(`${root}client/dist`, { recursive: true, force: true });
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}client/tsconfig.build.json`], { stdio: 'inherit' });
  writeFileSync(STAMP, '');
}

export function setup(): void {
  buildClient();
}
