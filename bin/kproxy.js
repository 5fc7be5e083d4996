#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npm start` and the `kproxy` bin need no build step.
import { tsImport } from 'tsx/esm/api';

await tsImport('../src/cli/main.ts', import.meta.url);
