#!/usr/bin/env node
/**
 * A small chat app of the kind AWS's WebSocket samples build, as its own CDK app: clients connect (a Lambda REQUEST
 * authorizer checks `?token=`), `sendmessage` sends a text to every connected client, `$disconnect` forgets the
 * connection, `$default` answers with the caller's connection info. One DynamoDB table of connection ids. Nothing
 * in it knows about local emulation: docs/emulator.md runs it with `teamtalk-local --app cdk.out`, and
 * test/emulator/cdk-app.test.ts does so in `npm test`.
 */
import { App, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

class WebSocketChatStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const table = new Table(this, 'Connections', {
      partitionKey: { name: 'connectionId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const handler = (name: string, environment: Record<string, string> = {}) =>
      new LambdaFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}Handler`, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromAsset(new URL(`./handlers/${name}`, import.meta.url).pathname),
        timeout: Duration.seconds(10),
        environment: { TABLE_NAME: table.tableName, ...environment },
      });
    const authorizer = handler('authorizer', { CHAT_TOKEN: 'open-sesame' });
    const connect = handler('connect');
    const disconnect = handler('disconnect');
    const sendMessage = handler('sendmessage');
    const fallback = handler('default');
    for (const fn of [connect, disconnect, sendMessage]) table.grantReadWriteData(fn);

    const api = new WebSocketApi(this, 'ChatApi', {
      connectRouteOptions: {
        integration: new WebSocketLambdaIntegration('ConnectIntegration', connect),
        authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', authorizer, {
          identitySource: ['route.request.querystring.token'],
        }),
      },
      disconnectRouteOptions: { integration: new WebSocketLambdaIntegration('DisconnectIntegration', disconnect) },
      defaultRouteOptions: {
        integration: new WebSocketLambdaIntegration('DefaultIntegration', fallback),
        returnResponse: true,
      },
    });
    api.addRoute('sendmessage', { integration: new WebSocketLambdaIntegration('SendMessageIntegration', sendMessage) });
    const stage = new WebSocketStage(this, 'Production', {
      webSocketApi: api,
      stageName: 'production',
      autoDeploy: true,
    });
    api.grantManageConnections(sendMessage);
    new CfnOutput(this, 'WebSocketUrl', { value: stage.url });
  }
}

const app = new App();
new WebSocketChatStack(app, 'WebSocketChat');
