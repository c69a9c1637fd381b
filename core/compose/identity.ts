/** The identity directory of the deletion job: the stack's Cognito pool when it owns one, else nothing to delete. */
import { CognitoDirectory, noIdentityDirectory } from '../gateway/cognito-directory.js';
import type { IdentityDirectory } from '../ports/accounts.js';
import type { Adapters } from './adapters.js';

export function identityDirectory({ config, region }: Adapters): IdentityDirectory {
  return config.userPoolId ? new CognitoDirectory(config.userPoolId, { region }) : noIdentityDirectory;
}
