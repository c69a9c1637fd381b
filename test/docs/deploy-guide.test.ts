/**
 * docs/deploy.md can be followed line by line: every shell variable its commands read is set earlier in the guide,
 * every variable a program it runs reads from the environment is exported first, every file and npm script it
 * runs exists, and the SDK example it shows is the file it runs (examples/hello.ts), which works against local mode.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../e2e/harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUIDE = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;
/** Set by the shell or the reader's environment, not by the guide. */
const GIVEN = new Set(['HOME', 'PATH', 'PWD']);

/** The guide's code blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...GUIDE.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
}

/** Shell lines with continuations joined and comments dropped. */
function shellLines(): string[] {
  return blocks('sh')
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .filter((line) => line.trim() !== '');
}

const assigned = (line: string) =>
  [...line.matchAll(/(?:^|[\s;&|(])(?:export\s+|local\s+)?([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!);
const exportedNames = (line: string) =>
  [...line.matchAll(/\bexport\s+((?:[A-Z_][A-Z0-9_]*(?:=\S*)?\s*)+)/g)].flatMap((m) =>
    m[1]!
      .split(/\s+/)
      .map((w) => w.split('=')[0]!)
      .filter(Boolean),
  );
const read = (line: string) => [...line.matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
/** `X=1 Y=2 command`: variables given to one command only. */
const inline = (line: string) =>
  [...line.matchAll(/(?:^|[\s;&|(])([A-Z_][A-Z0-9_]*)=\S+(?=\s+(?:[A-Z_][A-Z0-9_]*=\S+\s+)*(?:npx|npm|node))/g)].map(
    (m) => m[1]!,
  );

describe('docs/deploy.md', () => {
  it('sets every shell variable before a command reads it', () => {
    const set = new Set(GIVEN);
    const unset: string[] = [];
    for (const line of shellLines()) {
      for (const name of read(line))
        if (!set.has(name) && !assigned(line).includes(name)) unset.push(`${name} in: ${line.trim()}`);
      for (const name of assigned(line)) set.add(name);
    }
    expect(unset).toEqual([]);
  });

  it('exports every variable a program it runs reads from the environment, before running it', () => {
    const exported = new Set<string>(['AWS_REGION']);
    const missing: string[] = [];
    for (const line of shellLines()) {
      for (const name of exportedNames(line)) exported.add(name);
      const file = /npx tsx (\S+\.ts)/.exec(line)?.[1];
      if (!file) continue;
      const source = readFileSync(join(ROOT, file), 'utf8');
      const needs = [...source.matchAll(/process\.env(?:\.|\[')([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
      for (const name of needs)
        if (!exported.has(name) && !inline(line).includes(name)) missing.push(`${name} for ${file}`);
    }
    // The TypeScript the guide shows reads its settings from the environment the guide's shell exported.
    for (const block of blocks('ts')) {
      for (const [, name] of block.matchAll(/process\.env(?:\.|\[')([A-Z_][A-Z0-9_]*)/g))
        if (!exported.has(name!)) missing.push(`${name} for a TypeScript block`);
    }
    expect(missing).toEqual([]);
  });

  it('runs only files and npm scripts that exist', () => {
    const lines = shellLines();
    const files = lines.flatMap((line) => [...line.matchAll(/npx tsx (\S+\.ts)/g)].map((m) => m[1]!));
    const scripts = lines.flatMap((line) => [...line.matchAll(/npm run (?:-s )?([\w:-]+)/g)].map((m) => m[1]!));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(join(ROOT, file)), file).toBe(true);
    expect(scripts).toContain('smoke');
    for (const script of scripts) expect(SCRIPTS[script], script).toBeDefined();
  });

  it('ends the walk-through with the smoke run against the deployed stack, before tear-down', () => {
    const smoke = GUIDE.indexOf('npm run smoke -- --url "$URL"');
    expect(smoke).toBeGreaterThan(0);
    expect(GUIDE.indexOf('## 9. Tear down')).toBeGreaterThan(smoke);
  });

  it('shows examples/hello.ts as it is', () => {
    const example = readFileSync(join(ROOT, 'examples/hello.ts'), 'utf8');
    expect(blocks('ts')).toContain(example);
  });
});

describe("examples/hello.ts (the guide's SDK example)", () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('connects with URL and TOKEN from the environment, sends to the peer and prints the ack', async () => {
    const bob = await t.connect('bob');
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['examples/hello.ts', 'bob'], {
      cwd: ROOT,
      env: { ...process.env, URL: t.stack.url, TOKEN: await t.stack.mintToken('alice') },
    });
    expect(stdout).toMatch(/^stored as msg_id 1$/m);
    expect(await bob.client.next((f) => f['type'] === 'msg_data')).toMatchObject({
      from_user_id: 'alice',
      msg_data: 'hi from examples/hello.ts',
    });
  });
});
