#!/usr/bin/env node
/**
 * The `tessera` command (commands, options and help: cli.ts).
 *
 * @example
 * tessera train --epochs 1 --batch-size 64 --optimizer adam --lr 1e-3 --json
 * tessera finetune --task fashion --json
 * tessera info --backend reference
 * tessera train --backend wasm --limit 2000      # or TESSERA_BACKEND=wasm
 * tessera info --model lenet5
 * tessera tune --model lenet5
 * tessera train --help
 */
import * as ts from '@tessera/core';
import { run } from './cli.js';

run(process.argv.slice(2)).then(
  (code) => {
    ts.shutdown();
    process.exitCode = code;
  },
  (e: Error) => {
    ts.shutdown();
    process.stderr.write(`tessera: ${e.message}\n`);
    process.exitCode = 1;
  },
);
