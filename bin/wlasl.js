#!/usr/bin/env node
'use strict';
// The `wlasl` command (package.json "bin"). The CLI is TypeScript with no build step, so this registers tsx
// (what `node --import tsx` does: its ESM and CommonJS hooks) and runs src/cli/main.ts in this process, so
// stdio, signals and the exit status are the CLI's own.
import('tsx').then(
  () => require('../src/cli/main.ts').main(process.argv),
  (error) => {
    console.error(`error: cannot load tsx (run npm ci in ${require('node:path').resolve(__dirname, '..')}): ${error.message}`);
    process.exitCode = 1;
  },
);
