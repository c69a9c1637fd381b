/**
 * A vitest reporter, after the default one: when tests were skipped because the machine lacks something they need
 * (prerequisites.ts), the last lines of the run say which and how to install it, and under CI the run fails.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { chromiumPrerequisite, skippedFor, skipVerdict } from './prerequisites.js';

export default class SkipSummary implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const modules = testModules.map((m) => ({
      file: m.relativeModuleId,
      skipped: [...m.children.allTests('skipped')].length,
    }));
    const verdict = skipVerdict(skippedFor([chromiumPrerequisite()], modules), process.env);
    if (verdict.lines.length > 0) console.log(`\n${verdict.lines.join('\n')}\n`);
    if (verdict.failsRun) process.exitCode = 1;
  }
}
