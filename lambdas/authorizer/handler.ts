/**
 * $connect request authorizer: verifies `?token=` and hands the user id, the client type and the token's expiry to
 * every later route of the connection through the authorizer context (API Gateway stringifies the values). A
 * refused token throws "Unauthorized", which API Gateway answers with 401.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { TokenVerifier } from '../../core/auth/verify-token.js';
import { InvalidTokenError } from '../../core/errors.js';
import { parseClientType } from '../../core/domain/connection.js';
import { logger } from '../../core/observability.js';

export function createAuthorizerHandler(verifyToken: TokenVerifier) {
  return async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const query = event.queryStringParameters ?? {};
    try {
      const { userId, expiresAt } = await verifyToken(query['token'] ?? undefined);
      const clientType = parseClientType(query['client_type']);
      return {
        principalId: userId,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
        },
        context: { userId, ...(clientType === undefined ? {} : { clientType }), tokenExpiresAt: expiresAt },
      };
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        logger.info('token refused', { reason: error.message });
        throw new Error('Unauthorized');
      }
      throw error;
    }
  };
}
