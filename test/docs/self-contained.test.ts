/**
 * The repository stands alone: no file points at the briefs it was built from, which a reader of
 * the repository or of the package does not have. docs/protocol.md is the wire contract; prices live in
 * bench/prices.ts with their AWS price pages; quotas in docs/capacity.md with theirs. The package test checks the
 * packed files the same way.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIRS = [
  'lib',
  'bin',
  'core',
  'lambdas',
  'local',
  'emulator',
  'client',
  'protocol',
  'bench',
  'chaos',
  'smoke',
  'docs',
  'scripts',
  'examples',
  'test',
];
const SKIP = new Set(['node_modules', 'dist', 'cdk.out', '.data', 'artifacts']);
/** Built from parts so that this file does not match itself. */
const OUTSIDE = new RegExp(['shared', '(contract\\.md|reference)'].join('/'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|md|json|js|html)$/.test(name) ? [path] : [];
  });
}

describe('the repository stands alone', () => {
  it('has no file that points at the briefs outside it (the contract, the reference facts)', () => {
    const all = [join(ROOT, 'README.md'), ...DIRS.flatMap((dir) => files(join(ROOT, dir)))];
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((path) => OUTSIDE.test(readFileSync(path, 'utf8'))).map((path) => relative(ROOT, path))).toEqual(
      [],
    );
  });
});
