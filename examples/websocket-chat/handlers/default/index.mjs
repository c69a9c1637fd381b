// $default (a two-way route): any other frame is answered with how to chat and who the caller is.
export const handler = async (event) => {
  const { connectionId, authorizer } = event.requestContext;
  return {
    statusCode: 200,
    body: JSON.stringify({ hint: 'Use the sendmessage route to send a message.', connectionId, name: authorizer.name }),
  };
};
