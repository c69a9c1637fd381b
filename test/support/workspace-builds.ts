/**
 * The workspace packages' builds, made once before the tests that run on them, so they exercise what `npm publish`
 * would ship, not the source: the SDK (client/dist: the web page, the React Native-style harness, the size budget,
 * the README examples) and the emulator (emulator/dist: local mode, the end-to-end tests and every process they
 * start import `teamtalk-local`, which Node resolves to its build). Each is skipped when it is newer than every
 * source it comes from; the stamp saying when it was made is kept out of dist/, which npm packs whole.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STAMPS = `${root}node_modules/.cache/workspace-builds`;

interface WorkspaceBuild {
  /** The workspace folder, under the repository. */
  readonly folder: string;
  /** Files whose change calls for a new build, besides the workspace's own .ts and .mjs files. */
  readonly inputs: readonly string[];
  /** Its `npm run build`, run with Node directly (npm would start a shell and npm again: seconds). */
  readonly build: readonly string[];
}

const WORKSPACES: readonly WorkspaceBuild[] = [
  {
    folder: 'client',
    inputs: [
      'protocol',
      'client/package.json',
      'client/tsconfig.build.json',
      'client/tsconfig.cjs.json',
      'tsconfig.json',
    ],
    build: [`${root}client/build.mjs`],
  },
  {
    folder: 'emulator',
    inputs: ['emulator/package.json', 'emulator/tsconfig.build.json', 'emulator/build.mjs', 'tsconfig.json'],
    build: [`${root}emulator/build.mjs`],
  },
];

/** The newest modification time among the workspace's sources (its .ts and .mjs files, recursively) and inputs. */
function newestSource({ folder, inputs }: WorkspaceBuild): number {
  const sourceFiles = (dir: string): string[] =>
    readdirSync(`${root}${dir}`, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(ts|mjs)$/.test(f) && !/(^|\/)(dist|node_modules|examples)\//.test(f))
      .map((f) => `${root}${dir}/${f}`);
  const files = [folder, ...inputs].flatMap((path) =>
    statSync(`${root}${path}`).isDirectory() ? sourceFiles(path) : [`${root}${path}`],
  );
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

/** When the build in dist/ was completed (0: never, or dist/ is gone). */
function builtAt(folder: string): number {
  if (!existsSync(`${root}${folder}/dist`)) return 0;
  try {
    return statSync(`${STAMPS}/${folder}`).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds the workspace's dist from scratch unless it is up to date. */
function buildWorkspace(workspace: WorkspaceBuild): void {
  if (builtAt(workspace.folder) > newestSource(workspace)) return;
  rmSync(`${root}${workspace.folder}/dist`, { recursive: true, force: true });
  execFileSync(process.execPath, workspace.build, { stdio: 'inherit' });
  mkdirSync(STAMPS, { recursive: true });
  writeFileSync(`${STAMPS}/${workspace.folder}`, '');
}

export function setup(): void {
  for (const workspace of WORKSPACES) buildWorkspace(workspace);
}
