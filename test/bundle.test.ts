/**
 * What goes into a function's bundle (it is what a cold start loads): built by esbuild with the settings the stack gives
 * NodejsFunction (lib/bundling.ts, lib/function-specs.ts BUNDLING), the default credential chain is replaced by the
 * environment provider Lambda needs, and nothing of the chain's other links (SSO, ini files, STS/SSO clients) is left.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundledHandler, PACKAGE_ROOT } from '../lib/bundling.js';
import { loadBackendSpecs } from '../bench/specs.js';

describe('function bundles', () => {
  it('NodejsFunction gets the alias as an absolute path that exists, wherever the package is installed', () => {
    const args = bundledHandler('lambdas/ack/handler.ts').bundling?.esbuildArgs ?? {};
    const target = args['--alias:@aws-sdk/credential-provider-node'];
    expect(target).toBe(join(PACKAGE_ROOT, 'core/lambda-credentials.ts'));
    expect(existsSync(String(target))).toBe(true);
  });

  it('hold the environment credential provider and none of the default chain’s other links', async () => {
    const { bundle } = await loadBackendSpecs();
    const result = await build({
      entryPoints: [join(PACKAGE_ROOT, 'lambdas/ack/handler.ts')],
      bundle: true,
      write: false,
      metafile: true,
      outfile: 'ack.mjs',
      target: bundle.target,
      platform: bundle.platform,
      format: bundle.format,
      minify: bundle.minify,
      mainFields: bundle.mainFields,
      banner: { js: bundle.banner },
      external: bundle.external,
      alias: bundle.alias,
      absWorkingDir: PACKAGE_ROOT,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('core/lambda-credentials.ts');
    expect(inputs.some((p) => p.includes('@aws-sdk/credential-provider-env/'))).toBe(true);
    for (const gone of [
      '@aws-sdk/credential-provider-node/',
      '@aws-sdk/credential-provider-sso/',
      '@aws-sdk/credential-provider-ini/',
      '@aws-sdk/nested-clients/',
    ]) {
      expect(
        inputs.filter((p) => p.includes(gone)),
        gone,
      ).toEqual([]);
    }
  });
});
