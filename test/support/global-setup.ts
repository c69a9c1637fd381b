/**
 * One DynamoDB Local for the whole run, started on a free loopback port and stopped at the end. Each test file
 * creates its own tables under a unique prefix (see dynamo.ts), so files never see each other's rows.
 */
import type { TestProject } from 'vitest/node';
import type { DynamoDbLocal } from 'teamtalk-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

let engine: DynamoDbLocal | undefined;

export async function setup(project: TestProject): Promise<void> {
  // Imported here, not at the top: vitest loads every global setup file before running any, and on a fresh clone the
  // emulator's build (emulator/dist, made by workspace-builds.ts's setup) does not exist until then.
  const { startDynamoDbLocal } = await import('teamtalk-local');
  engine = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', engine.endpoint);
}

export async function teardown(): Promise<void> {
  await engine?.stop();
}
