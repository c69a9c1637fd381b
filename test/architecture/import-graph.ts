/**
 * The repository's import graph, read from the sources with TypeScript's own pre-processor: every `import`, `import
 * type`, `export … from` and `import()` of every source file under the given folders, resolved to repository files
 * (relative paths, and the workspace packages to their sources) or kept as a package name. Small and dependency-free
 * on purpose: the architecture test needs edges, cycles and folder rules, nothing more.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** file (repository-relative, `/`-separated) → what it imports: repository files, or `pkg:<name>` for packages. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const SOURCE = /\.(ts|tsx|mts|mjs)$/;
const SKIP = new Set(['node_modules', 'dist', 'cdk.out', '.data', 'artifacts', 'results']);

/** The specifiers a source text imports, type-only imports and re-exports included. */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : SOURCE.test(name) ? [path] : [];
  });
}

/** A relative specifier as a file: `./x.js` is `./x.ts` in the sources (NodeNext), or the file itself. */
function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = resolve(dirname(join(root, from)), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base, join(base, 'index.ts')];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return found && relative(root, found).split('\\').join('/');
}

/**
 * Reads the graph of every source file under `folders` (relative to `root`). `packages` maps the repository's own
 * package names to their source entries, so an edge through a workspace package is an edge like any other. Throws
 * on a relative import that names no file: a walker that silently drops edges would miss cycles.
 */
export function readImportGraph(
  root: string,
  folders: readonly string[],
  packages: Readonly<Record<string, string>> = {},
): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const folder of folders) {
    for (const path of sourceFiles(join(root, folder))) {
      const file = relative(root, path).split('\\').join('/');
      const edges = importsOf(readFileSync(path, 'utf8')).map((specifier) => {
        if (specifier.startsWith('.')) {
          const target = resolveRelative(root, file, specifier);
          if (!target) throw new Error(`${file}: cannot resolve ${specifier}`);
          return target;
        }
        return packages[specifier] ?? `pkg:${specifier}`;
      });
      graph.set(file, [...new Set(edges)]);
    }
  }
  return graph;
}

/** The import cycles of a graph: each strongly connected set of several files, or a file importing itself. */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm; the graph is a few hundred files, so recursion depth is no concern.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue; // a package, or a file outside the walked folders
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)!.includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/**
 * A folder rule: files under `files` may not import anything under `mayNotImport` (folders, files or `pkg:`
 * prefixes), and, when `mayOnlyImport` is given, no repository file outside it.
 */
export interface LayerRule {
  readonly files: readonly string[];
  readonly mayNotImport?: readonly string[];
  readonly mayOnlyImport?: readonly string[];
}

const under = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path.startsWith(p));

function breaks(rule: LayerRule, target: string): boolean {
  if (rule.mayNotImport && under(target, rule.mayNotImport)) return true;
  return rule.mayOnlyImport !== undefined && !target.startsWith('pkg:') && !under(target, rule.mayOnlyImport);
}

/** Every edge that breaks a rule, as `from → to`. */
export function layerViolations(graph: ImportGraph, rules: readonly LayerRule[]): string[] {
  return rules.flatMap((rule) =>
    [...graph]
      .filter(([file]) => under(file, rule.files))
      .flatMap(([file, targets]) => targets.filter((t) => breaks(rule, t)).map((t) => `${file} → ${t}`)),
  );
}
