// REQUEST authorizer: a client connects with ?token=<CHAT_TOKEN>&name=<display name>.
exports.handler = async (event) => {
  const query = event.queryStringParameters || {};
  if (query.token !== process.env.CHAT_TOKEN) throw new Error('Unauthorized');
  return {
    principalId: query.name || 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: { name: query.name || 'anonymous' },
  };
};
