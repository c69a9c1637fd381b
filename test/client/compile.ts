/**
 * Type-checks files the way an app would: in-memory files placed under test/client/__compiled__/ (so the package
 * resolves through node_modules to its build, not through the repository's `paths`), beside real files of the tree.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const root = fileURLToPath(new URL('../../', import.meta.url));

export interface CompileInput {
  /** Files of the tree, relative to its root. */
  readonly files?: readonly string[];
  /** In-memory files by name, placed under test/client/__compiled__/. */
  readonly virtual?: Readonly<Record<string, string>>;
  readonly lib: string[];
}

/** A program over the files; its diagnostics are the caller's to read. */
export function compileProgram({ files = [], virtual = {}, lib }: CompileInput): {
  readonly program: ts.Program;
  readonly virtualPaths: Map<string, string>;
} {
  const virtualPaths = new Map(
    Object.entries(virtual).map(([name, text]) => [`${root}test/client/__compiled__/${name}`, text]),
  );
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    jsx: ts.JsxEmit.ReactJSX,
    lib,
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    virtualPaths.has(name)
      ? ts.createSourceFile(name, virtualPaths.get(name)!, language)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => virtualPaths.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtualPaths.get(name) ?? readFile.call(host, name);
  const rootNames = [...files.map((f) => `${root}${f}`), ...virtualPaths.keys()];
  return { program: ts.createProgram(rootNames, options, host), virtualPaths };
}
