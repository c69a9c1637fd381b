/**
 * client/README.md's examples compile against the package build's declarations (what an app gets from
 * `import … from 'teamtalk-serverless-client'`), so they cannot rot; and misuse of the API does not compile: a
 * request with missing fields, a message type or session type outside the contract, a conversation given as loose
 * fields, an error code that does not exist.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { compileProgram, root } from './compile.js';

/** The app's own functions the examples call. */
const PRELUDE = `import type { SyncState } from 'teamtalk-serverless-client';
declare global {
  function fetchJwt(): Promise<string>;
  function show(...what: unknown[]): void;
  function notify(...what: unknown[]): void;
  function save(state: SyncState): void;
  function load(): SyncState | undefined;
  function lookUpName(userId: string): Promise<string | undefined>;
}
`;

/** A client and imports for the misuse snippets. */
const MISUSE_PRELUDE = `import { ChatClient, ChatServerError, group, peer } from 'teamtalk-serverless-client';
declare const chat: ChatClient;
declare const error: ChatServerError;
void group; void peer; void error;
`;

const MISUSE: Record<string, string> = {
  'a request missing its fields': `void chat.request('msg_list', { session_id: 'x' });`,
  'an action that does not exist': `void chat.request('msg_lists', {});`,
  'msg_data through request()': `void chat.request('msg_data', {});`,
  'a message type outside the contract': `void chat.send({ toSessionId: 'bob', msgType: 5, msgData: 'x' });`,
  'a message type beside a conversation': `void chat.send({ to: peer('bob'), msgType: 1, msgData: 'x' });`,
  'a user id instead of a conversation': `void chat.send({ to: 'bob', msgData: 'x' });`,
  'a session type outside the contract': `void chat.listMessages({ sessionId: 'g', sessionType: 3 });`,
  'a conversation as loose fields': `void chat.markRead({ sessionId: 'bob', msgId: 1 });`,
  'an error code that does not exist': `if (error.code === 'rate_limit') void 0;`,
  'a kind that does not exist': `void chat.send({ to: peer('bob'), msgData: 'x', kind: 'video' });`,
};

function readmeExamples(): string[] {
  const readme = readFileSync(`${root}client/README.md`, 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** Compiles in-memory files (name → text): each file's diagnostics by name. */
function compile(files: Record<string, string>): Map<string, readonly ts.Diagnostic[]> {
  const virtual = Object.fromEntries(Object.entries(files).map(([name, text]) => [`${name}.ts`, text]));
  const { program, virtualPaths } = compileProgram({ virtual, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'] });
  const byFile = new Map<string, readonly ts.Diagnostic[]>();
  for (const [path] of virtualPaths) {
    const source = program.getSourceFile(path)!;
    const name = path.slice(path.lastIndexOf('/') + 1, -3);
    byFile.set(name, [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]);
  }
  return byFile;
}

const text = (diagnostics: readonly ts.Diagnostic[]) =>
  diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));

describe('client/README.md', () => {
  it('has examples, and every one compiles against the package build; misuse of the API does not', () => {
    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const files: Record<string, string> = { prelude: PRELUDE, 'misuse-prelude': `${MISUSE_PRELUDE}export {};\n` };
    for (const [i, example] of examples.entries()) files[`example-${i + 1}`] = `${example}\nexport {};\n`;
    for (const [i, line] of Object.values(MISUSE).entries())
      files[`misuse-${i + 1}`] = `${MISUSE_PRELUDE}${line}\nexport {};\n`;
    const diagnostics = compile(files);

    for (const [name, found] of diagnostics) {
      if (!name.startsWith('misuse-') || name === 'misuse-prelude') expect(text(found), name).toEqual([]);
    }
    const preludeLines = MISUSE_PRELUDE.split('\n').length - 1;
    Object.keys(MISUSE).forEach((misuse, i) => {
      const found = diagnostics.get(`misuse-${i + 1}`)!;
      expect(found.length, misuse).toBeGreaterThan(0);
      // The error is on the misuse line, not in the prelude.
      for (const d of found)
        expect(d.file!.getLineAndCharacterOfPosition(d.start!).line, `${misuse}: ${text([d]).join()}`).toBe(
          preludeLines,
        );
    });
  });
});
