#!/usr/bin/env node
'use strict';
// Jupyter starts this (see scripts/install_kernel.ts). tslab compiles cells with the kernel's working
// directory as rootDir, so a plain tslab kernel started in notebooks/ cannot import ../src. Starting it from
// the project root makes `import ... from "./src"` work in every notebook, and relative data paths
// (data/sample, runs/) mean the same thing in notebooks, the CLI and the tests.
const path = require('node:path');

const projectRoot = path.resolve(__dirname, '..');
process.chdir(projectRoot);
// Notebooks get compact progress lines, not terminal bars.
if (!process.env.WLASL_PROGRESS) process.env.WLASL_PROGRESS = 'lines';

const args = process.argv.slice(2);
const at = args.indexOf('--config-path');
const configPath = at >= 0 ? args[at + 1] : undefined;
if (!configPath) {
  console.error('usage: tslab_kernel.js kernel --config-path <connection file>');
  process.exit(2);
}
const { startKernel } = require(path.join(projectRoot, 'node_modules', 'tslab', 'dist', 'main.js'));
startKernel({ configPath, enableFindLocal: false, jsKernel: false, globalVersion: 'project' });
