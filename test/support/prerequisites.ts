/**
 * What some tests need from the machine beyond `npm ci`, and what a run says when it is missing. The browser tests
 * drive a Chromium; where none is installed they are skipped, but never quietly: skip-summary.ts ends the run with
 * what was skipped and how to install it, and under CI a skipped test fails the run, so a green CI run ran them all.
 */
import { existsSync } from 'node:fs';

export interface Prerequisite {
  /** What the machine lacks, as the summary names it. */
  readonly name: string;
  /** Where the tests that need it are: a folder of the repository, with its trailing slash. */
  readonly neededBy: string;
  /** How to install it. */
  readonly install: string;
  /** Whether this machine has it. */
  readonly present: boolean;
}

/** Debian's `chromium`, driven by playwright-core; CHROMIUM_PATH names another Chromium or Chrome executable. */
export function chromiumPrerequisite(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): Prerequisite & { path: string } {
  const path = env['CHROMIUM_PATH'] || '/usr/bin/chromium';
  return {
    name: `Chromium (no executable at ${path})`,
    path,
    neededBy: 'test/browser/',
    install:
      '`sudo apt-get install chromium` (Debian, Ubuntu; .ci/run does it), ' +
      'or set CHROMIUM_PATH to a Chromium or Chrome executable',
    present: exists(path),
  };
}

/** A test module of the run, by its path in the repository, with how many of its tests were skipped. */
export interface ModuleSkips {
  readonly file: string;
  readonly skipped: number;
}

/** The tests a missing prerequisite kept from running. */
export interface SkippedFor {
  readonly prerequisite: Prerequisite;
  readonly tests: number;
  readonly files: number;
}

/** For each missing prerequisite, the skipped tests of the run's modules that need it (none: not listed). */
export function skippedFor(prerequisites: readonly Prerequisite[], modules: readonly ModuleSkips[]): SkippedFor[] {
  return prerequisites
    .filter((p) => !p.present)
    .map((prerequisite) => {
      const hit = modules.filter((m) => m.file.startsWith(prerequisite.neededBy) && m.skipped > 0);
      return { prerequisite, files: hit.length, tests: hit.reduce((n, m) => n + m.skipped, 0) };
    })
    .filter((s) => s.tests > 0);
}

/** CI services set CI (GitHub Actions, GitLab CI, CircleCI, Travis: `true`). */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const ci = env['CI']?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

export interface SkipVerdict {
  /** The lines that end the run's output; none when nothing was skipped for a missing prerequisite. */
  readonly lines: string[];
  /** A skip fails the run under CI. */
  readonly failsRun: boolean;
}

export function skipVerdict(skipped: readonly SkippedFor[], env: NodeJS.ProcessEnv): SkipVerdict {
  if (skipped.length === 0) return { lines: [], failsRun: false };
  const ci = isCI(env);
  const lines = skipped.flatMap(({ prerequisite, tests, files }) => [
    `SKIPPED ${tests} test${tests === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} of ` +
      `${prerequisite.neededBy}: this machine lacks ${prerequisite.name}.`,
    `  Install: ${prerequisite.install}.`,
  ]);
  lines.push(
    ci
      ? `FAILED: CI=${env['CI']} and tests were skipped; a CI run must run them all.`
      : 'These tests did not run: this run proves less than a full `npm test` (under CI, a skip fails the run).',
  );
  return { lines, failsRun: ci };
}
