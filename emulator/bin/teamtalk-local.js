#!/usr/bin/env node
// The command's entry, a file of its own outside dist/: npm links a workspace's bin at install time only when its
// target exists, and dist/ is built after the install (tests' global setup, `npm start`'s prestart).
import '../dist/cdk-app/cli.js';
