/**
 * A test skipped because the machine lacks something (Chromium for the browser tests) is loud: the run's last lines
 * say what was skipped and how to install it, and under CI the skip fails the run (test/support/skip-summary.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import { chromiumPrerequisite, isCI, skippedFor, skipVerdict } from '../support/prerequisites.js';
import SkipSummary from '../support/skip-summary.js';

const missingChromium = chromiumPrerequisite({ CHROMIUM_PATH: '/opt/none/chrome' }, () => false);
const browserSkips = [
  { file: 'test/browser/chat-page.test.ts', skipped: 6 },
  { file: 'test/browser/push.test.ts', skipped: 1 },
  { file: 'test/unit/gateway.test.ts', skipped: 2 },
  { file: 'test/browser/ran.test.ts', skipped: 0 },
];

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('the Chromium the browser tests need', () => {
  it('is /usr/bin/chromium unless CHROMIUM_PATH names another, and present only if that file exists', () => {
    const seen: string[] = [];
    const exists = (path: string) => (seen.push(path), path === '/usr/bin/chromium');
    expect(chromiumPrerequisite({}, exists)).toMatchObject({ path: '/usr/bin/chromium', present: true });
    expect(chromiumPrerequisite({ CHROMIUM_PATH: '/opt/chrome' }, exists)).toMatchObject({ present: false });
    expect(seen).toEqual(['/usr/bin/chromium', '/opt/chrome']);
  });
});

describe('what a run skipped for a missing prerequisite', () => {
  it('counts the skipped tests of the files that need it, and nothing for a prerequisite that is present', () => {
    expect(skippedFor([missingChromium], browserSkips)).toEqual([
      { prerequisite: missingChromium, tests: 7, files: 2 },
    ]);
    expect(skippedFor([{ ...missingChromium, present: true }], browserSkips)).toEqual([]);
    // A run without the browser files (a targeted run) skipped nothing for it.
    expect(skippedFor([missingChromium], browserSkips.slice(2))).toEqual([]);
  });
});

describe('the verdict at the end of the run', () => {
  const skipped = skippedFor([missingChromium], browserSkips);

  it('says nothing and fails nothing when nothing was skipped, under CI too', () => {
    expect(skipVerdict([], { CI: 'true' })).toEqual({ lines: [], failsRun: false });
  });

  it('outside CI names the skipped tests, what is missing and how to install it, and lets the run pass', () => {
    const verdict = skipVerdict(skipped, {});
    expect(verdict.failsRun).toBe(false);
    const text = verdict.lines.join('\n');
    expect(text).toContain('SKIPPED 7 tests in 2 files of test/browser/');
    expect(text).toContain('no executable at /opt/none/chrome');
    expect(text).toContain('sudo apt-get install chromium');
    expect(text).toContain('CHROMIUM_PATH');
  });

  it('fails the run under CI', () => {
    expect(skipVerdict(skipped, { CI: 'true' })).toMatchObject({ failsRun: true });
    expect(skipVerdict(skipped, { CI: '1' }).lines.at(-1)).toMatch(/^FAILED: CI=1/);
    for (const notCI of [undefined, '', '0', 'false', 'FALSE']) expect(isCI({ CI: notCI })).toBe(false);
  });
});

describe('the reporter', () => {
  const modules = (skips: typeof browserSkips) =>
    skips.map(({ file, skipped }) => ({
      relativeModuleId: file,
      children: {
        *allTests() {
          for (let i = 0; i < skipped; i++) yield {};
        },
      },
    })) as unknown as TestModule[];

  it('prints the verdict as the last lines and sets a failing exit code under CI', () => {
    vi.stubEnv('CHROMIUM_PATH', '/opt/none/chrome');
    vi.stubEnv('CI', 'true');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const exitCode = process.exitCode;
    try {
      new SkipSummary().onTestRunEnd(modules(browserSkips));
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = exitCode;
    }
    expect(log).toHaveBeenCalledOnce();
    expect(String(log.mock.calls[0]?.[0])).toMatch(/SKIPPED 7 tests .*\n.*Install: .*\nFAILED: CI=true/);
  });
});
