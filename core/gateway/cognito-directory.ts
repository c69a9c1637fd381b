/** The IdentityDirectory port on the stack's own Cognito user pool: AdminDeleteUser, a missing user being no error. */
import { AdminDeleteUserCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { IdentityDirectory } from '../ports/accounts.js';

export class CognitoDirectory implements IdentityDirectory {
  private readonly cognito: CognitoIdentityProviderClient;

  constructor(
    private readonly userPoolId: string,
    options: { region?: string | undefined } = {},
  ) {
    this.cognito = new CognitoIdentityProviderClient({ ...(options.region ? { region: options.region } : {}) });
  }

  async deleteUser(userId: string): Promise<void> {
    try {
      // The token's `sub` is the user id; Cognito accepts the sub as the username of AdminDeleteUser.
      await this.cognito.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: userId }));
    } catch (error) {
      if ((error as Error).name !== 'UserNotFoundException') throw error;
    }
  }
}

/** No pool of the stack's (an outside OIDC issuer, or local mode): the issuer's users are the team's to remove. */
export const noIdentityDirectory: IdentityDirectory = { deleteUser: async () => undefined };
