#!/usr/bin/env node
// `teamtalk-local --app cdk.out`: serves a synthesized CDK app's WebSocket API locally (docs/emulator.md).
import { register } from 'tsx/esm/api';

register();
await import('../local/cdk-app/cli.ts');
