/**
 * Builds the local chat page in memory: the HTML (with the CSS inlined) and the browser bundle of app.ts and the
 * client SDK. The SDK comes in as the package `teamtalk-serverless-client`, resolved to its build (client/dist, made
 * by `npm run build:client`, which `npm start` runs first), so the page runs on what the package ships. The local
 * emulator serves them as `GET /` and `GET /app.js`.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface WebAppBundle {
  /** The page; it loads `/app.js` as a module script. */
  readonly html: string;
  /** The minified ES module bundle. */
  readonly js: string;
  /** The service worker (sw.js), served as `GET /sw.js`. */
  readonly serviceWorker: string;
  /** The files bundled into it, relative to the repository root. */
  readonly inputs: readonly string[];
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

export async function buildWebApp(): Promise<WebAppBundle> {
  const [result, template, css, serviceWorker] = await Promise.all([
    build({
      entryPoints: [here('./app.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: ['es2020'],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
      absWorkingDir: here('../..'),
      // The SDK as the package ships it (client/dist), not the repository's tsconfig `paths` to its sources.
      tsconfigRaw: {},
    }),
    readFile(here('./index.html'), 'utf8'),
    readFile(here('./styles.css'), 'utf8'),
    readFile(here('./sw.js'), 'utf8'),
  ]);
  const js = result.outputFiles[0]?.text;
  if (!js) throw new Error('buildWebApp: esbuild produced no output');
  const html = template.replace('/*STYLES*/', () => css);
  return { html, js, serviceWorker, inputs: Object.keys(result.metafile.inputs) };
}
