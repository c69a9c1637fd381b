/**
 * Facts of the code that the docs repeat, held equal to the code: docs/architecture.md's route diagram is
 * core/routes.ts's ROUTES, and the short chaos run README.md and docs/architecture.md describe is the one
 * test/chaos/chaos.test.ts runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../core/routes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/**
 * Route key → function, from the box of the API in docs/architecture.md's diagram: `keys ─► function`, where keys
 * are comma-separated and `$connect` passes its authorizer on the way (`$connect ─► authorizer (…) ─► connect`).
 */
function diagramRoutes(doc: string): Record<string, string> {
  const lines = doc.split('\n');
  const top = lines.findIndex((l) => l.includes('┌') && l.includes('API Gateway WebSocket API'));
  const bottom = lines.findIndex((l, i) => i > top && l.includes('└'));
  const routes: Record<string, string> = {};
  for (const line of lines.slice(top + 1, bottom)) {
    for (const m of line.matchAll(/((?:[\w$]+, )*[\w$]+) ─► (?:authorizer \([^)]*\) ─► )?(\w+)/g)) {
      for (const key of m[1]!.split(', ')) routes[key] = m[2]!;
    }
  }
  return routes;
}

describe('docs/architecture.md', () => {
  it("the diagram's routes are core/routes.ts's, each on its function", () => {
    expect(diagramRoutes(read('docs/architecture.md'))).toEqual(ROUTES);
  });
});

describe('the short chaos run', () => {
  const test = read('test/chaos/chaos.test.ts');
  const option = (name: string) => Number(new RegExp(`\\b${name}: (\\d+),`).exec(test)?.[1]);
  const run = { users: option('users'), devices: option('devicesPerUser'), messages: option('messages') };

  it('README.md describes the run npm test makes: users, devices, messages', () => {
    const m = /A short\s+version \((\d+) users × (\d+) devices, (\d+) messages/.exec(read('README.md'));
    expect(m, 'README.md: "A short version (U users × D devices, N messages"').not.toBeNull();
    expect({ users: Number(m![1]), devices: Number(m![2]), messages: Number(m![3]) }).toEqual(run);
  });

  it('docs/architecture.md gives the same number of messages', () => {
    expect(/a short (\d+)-message chaos run/.exec(read('docs/architecture.md'))?.[1]).toBe(String(run.messages));
  });
});
