/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (an esbuild alias, lib/function-specs.ts
 * BUNDLING.alias). On Lambda the execution role's credentials are in the environment, so the default chain's other
 * links (SSO, ini files, web identity, container and instance metadata, with the nested STS/SSO clients they load:
 * ~90 KB of every bundle) are never reached. Local mode and tests run the unbundled sources and the full chain.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);
