/**
 * Nothing is composed at import: the handler modules (which local mode, the chaos run, the fuzz suite and the tests
 * import) read no setting and build no client, so a bad setting cannot fail their import; a function's Lambda entry
 * composes its ports at init, where the same setting fails with ConfigError.
 */
import './setup-env.js';
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('composition', () => {
  it('happens in no handler module at import, so a bad setting fails only a Lambda entry', async () => {
    vi.resetModules();
    vi.stubEnv('ACK_TIMEOUT_MS', 'soon');
    const routes = await import('../../lambdas/route-handlers.js');
    await import('../../lambdas/sweeper/handler.js');
    await import('../../lambdas/push-sender/handler.js');
    await import('../../lambdas/authorizer/handler.js');
    expect(Object.keys(routes.ROUTE_FUNCTIONS)).toContain('send');
    const { ConfigError } = await import('../../core/errors.js'); // this module graph's class
    await expect(import('../../lambdas/ack/entry.js')).rejects.toBeInstanceOf(ConfigError);
  });
});
