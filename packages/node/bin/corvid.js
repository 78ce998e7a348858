#!/usr/bin/env node
// Thin launcher so `npx corvid` works from the repo root after `npm run build`.
import '../dist/cli/main.js';
