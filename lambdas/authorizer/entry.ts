/** The authorizer's Lambda entry: its token verifier from the environment, built once at init. */
import { tokenVerifierFromEnv } from '../../core/auth/verify-token.js';
import { createAuthorizerHandler } from './handler.js';

export const handler = createAuthorizerHandler(tokenVerifierFromEnv());
