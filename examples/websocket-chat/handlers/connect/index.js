// $connect: remember the connection. Callback style, as the older samples write it.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, PutCommand } = require('@aws-sdk/lib-dynamodb');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

exports.handler = (event, _context, callback) => {
  const item = { connectionId: event.requestContext.connectionId, name: event.requestContext.authorizer.name };
  documents
    .send(new PutCommand({ TableName: process.env.TABLE_NAME, Item: item }))
    .then(() => callback(null, { statusCode: 200, body: 'Connected.' }))
    .catch((error) => callback(null, { statusCode: 500, body: `Failed to connect: ${error.message}` }));
};
