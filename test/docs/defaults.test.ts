/**
 * The documented defaults are the code's. For every default of core/config.ts (DEFAULTS) and protocol/limits.ts
 * (LIMIT_DEFAULTS), by key, so a new limit or setting is demanded in the docs the moment it is added:
 * - `npm start`'s usage text (local/start.ts) names its env var with the local default;
 * - docs/local-mode.md's knobs table has a row for it with that default;
 * - docs/deploy.md names the env var on a line that states the default (the construct's props table);
 * and every context key lib/app.ts reads is in the context tables of README.md and docs/deploy.md, with one default.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV } from '../../core/config.js';
import { USAGE } from '../../local/start-usage.js';
import { LOCAL_DEFAULTS } from '../../local/stack.js';
import { LIMIT_DEFAULTS } from '../../protocol/limits.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const README = read('README.md');
const DEPLOY = read('docs/deploy.md');
const LOCAL_MODE = read('docs/local-mode.md');

/** LIMIT_DEFAULTS entries that are part of the wire format, not settings (the request schema's bound on a token). */
const NOT_SETTINGS = new Set(['maxDeviceTokenLength']);

type Key = string;
const SETTINGS: [Key, number][] = [
  ...Object.entries(DEFAULTS),
  ...Object.entries(LIMIT_DEFAULTS).filter(([key]) => !(key in DEFAULTS) && !NOT_SETTINGS.has(key)),
];

/** The ways a default is written: 4096, 4,096; 15000 ms as 15 s, 60000 ms as 1 minute; 0 days as kept for ever. */
function renderings(key: Key, value: number): string[] {
  const out = [String(value), value.toLocaleString('en-US')];
  if (key.endsWith('Ms')) {
    out.push(`${value / 1000} s`, `${value / 1000} seconds`);
    if (value % 60_000 === 0) out.push(`${value / 60_000} minute${value === 60_000 ? '' : 's'}`);
  }
  if (value === 0) out.push('for ever');
  return out;
}

const envOf = (key: Key): string | undefined => (ENV as Record<string, string>)[key];
const localDefault = (key: Key, value: number): number => (LOCAL_DEFAULTS as Record<string, number>)[key] ?? value;
const mentions = (line: string, key: Key, value: number) =>
  renderings(key, value).some((r) =>
    new RegExp(`(^|[^\\d,.])${r.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^\\d,])`).test(line),
  );

describe('defaults in the docs', () => {
  it('gives every limit in LIMIT_DEFAULTS that is a setting the same default as core/config.ts', () => {
    for (const [key, value] of Object.entries(LIMIT_DEFAULTS)) {
      if (key in DEFAULTS) expect((DEFAULTS as Record<string, number>)[key], key).toBe(value);
    }
  });

  it.each(SETTINGS)("%s: an env var, in npm start's usage text with the local default", (key, value) => {
    const env = envOf(key);
    expect(env, `core/config.ts ENV has no env var for ${key}`).toBeDefined();
    const line = USAGE.split('\n').find((l) => l.trim().startsWith(`${env} `));
    expect(line, `local/start.ts usage names ${env}`).toBeDefined();
    expect(line).toMatch(new RegExp(`\\(default ${localDefault(key, value)}\\)`));
  });

  it.each(SETTINGS)("%s: a row of docs/local-mode.md's knobs table with the local default", (key, value) => {
    const row = LOCAL_MODE.split('\n').find((l) => l.startsWith(`| \`${envOf(key)}\` |`));
    expect(row, `docs/local-mode.md has a row for ${envOf(key)}`).toBeDefined();
    expect(row!.split('|')[2]!.trim()).toBe(String(localDefault(key, value)));
  });

  it.each(SETTINGS)('%s: named in docs/deploy.md with its default', (key, value) => {
    const lines = DEPLOY.split('\n').filter((l) => l.includes(`\`${envOf(key)}\``));
    expect(lines.length, `docs/deploy.md names ${envOf(key)}`).toBeGreaterThan(0);
    expect(
      lines.some((l) => mentions(l, key, value)),
      `${envOf(key)} with ${renderings(key, value).join(' / ')}:\n${lines.join('\n')}`,
    ).toBe(true);
  });
});

/** The lines of the first table after the first mention of `-c key=value`. */
function contextTable(doc: string): string[] {
  const lines = doc.slice(doc.indexOf('-c key=value')).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('|'));
  return lines.slice(start, end);
}

describe('context keys in the docs', () => {
  const keys = [...read('lib/app.ts').matchAll(/optional\w+\(app, '(\w+)'\)/g)].map((m) => m[1]!);
  /** `| \`key\` | default | …` rows of a document's context table: the first table after "-c key=value". */
  const contextRows = (doc: string) =>
    new Map(
      contextTable(doc).flatMap((l) => {
        const m = /^\| `(\w+)` \| ([^|]*) \|/.exec(l);
        return m && keys.includes(m[1]!) ? [[m[1]!, m[2]!.trim()] as const] : [];
      }),
    );

  it('finds the keys lib/app.ts reads', () => {
    expect(keys).toEqual(
      expect.arrayContaining(['oidcIssuer', 'oidcAudience', 'removalPolicy', 'apiGatewayLogsRole', 'stackName']),
    );
  });

  it('lists every one in README.md and docs/deploy.md, with the same default', () => {
    const readme = contextRows(README);
    const deploy = contextRows(DEPLOY);
    for (const key of keys) {
      expect(readme.get(key), `README.md: ${key}`).toBeDefined();
      expect(deploy.get(key), `docs/deploy.md: ${key}`).toBeDefined();
      expect(readme.get(key), key).toBe(deploy.get(key));
    }
  });
});
