// sendmessage: {"action":"sendmessage","message":"hi"} goes to every connection, the sender's included.
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event) => {
  const { domainName, stage, authorizer } = event.requestContext;
  const callbacks = new ApiGatewayManagementApiClient({ endpoint: `https://${domainName}/${stage}` });
  const { message } = JSON.parse(event.body);
  const data = JSON.stringify({ from: authorizer.name, message });
  const { Items: connections = [] } = await documents.send(
    new ScanCommand({ TableName: process.env.TABLE_NAME, ProjectionExpression: 'connectionId' }),
  );
  await Promise.all(
    connections.map(async ({ connectionId }) => {
      try {
        await callbacks.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      } catch (error) {
        if (!(error instanceof GoneException)) throw error;
        await documents.send(new DeleteCommand({ TableName: process.env.TABLE_NAME, Key: { connectionId } }));
      }
    }),
  );
  return { statusCode: 200, body: 'Data sent.' };
};
