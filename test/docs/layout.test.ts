/**
 * docs/architecture.md's "Folder layout" table is true of the tree: every folder and file it names exists, and every
 * folder that holds source files is named — itself, a folder above it, or a file in it. A folder added without a row,
 * or a row left behind by a move, fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = /\.(ts|tsx|mts|mjs)$/;

/** The table's rows: from the heading to the first line that is not a table line. */
function layoutRows(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('## Folder layout');
  const rows: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) rows.push(line);
    else if (rows.length > 0) break;
  }
  return rows.slice(2); // the header and its rule
}

/** The source files of the tree (committed or new, not ignored). */
const sourceFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
  .toString()
  .split('\n')
  .filter((f) => SOURCE.test(f) && existsSync(join(ROOT, f)));

/** `lambdas/<fn>/handler.ts` → a pattern matching any one folder name for `<fn>`. */
const patternOf = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]+>/g, '[^/]+')}$`);

describe('docs/architecture.md folder layout', () => {
  const rows = layoutRows(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
  const folders = [...new Set(sourceFiles.map((f) => `${dirname(f)}/`))].filter((d) => d !== './');
  const topLevel = new Set(folders.map((f) => f.split('/')[0]));
  // Every backticked path of the table that starts at a top-level source folder; rows of built output are left out.
  const named = rows
    .filter((row) => !row.includes('not committed'))
    .flatMap((row) => [...row.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!))
    .filter((path) => topLevel.has(path.split('/')[0]!) && path.includes('/'));
  const namedFolders = named.filter((p) => p.endsWith('/'));
  const namedFiles = named.filter((p) => !p.endsWith('/'));

  it('reads the table', () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(namedFolders).toContain('core/usecases/');
  });

  it('names only folders and files that exist', () => {
    const missing = named.filter((path) =>
      path.includes('<') ? !sourceFiles.some((f) => patternOf(path).test(f)) : !existsSync(join(ROOT, path)),
    );
    expect(missing).toEqual([]);
  });

  it('names every folder that holds source files', () => {
    const unnamed = folders.filter(
      (folder) =>
        !namedFolders.some((n) => folder.startsWith(n)) &&
        !namedFiles.some((file) => folder === `${dirname(file)}/`) &&
        !namedFiles.some((file) => file.includes('<') && patternOf(dirname(file)).test(folder.slice(0, -1))),
    );
    expect(unnamed).toEqual([]);
  });
});
