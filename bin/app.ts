#!/usr/bin/env node
/** CDK entry point (cdk.json: `npx tsx bin/app.ts`). The app is built in lib/app.ts; the CLI synthesizes it. */
import { createApp } from '../lib/app.js';

createApp();
