#!/usr/bin/env node
/**
 * The API client is generated, never written by hand: this writes openapi.json from the backend's code (no server,
 * no Redis) and the TypeScript client and types from it into src/lib/api/generated/.
 *
 *   node scripts/generate.mjs          regenerate the checked-in files
 *   node scripts/generate.mjs --check  regenerate into a temporary directory; exit 1 when the checked-in files differ
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@hey-api/openapi-ts';

const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BACKEND = resolve(FRONTEND, '../backend');
const SCHEMA = 'openapi.json';
const GENERATED = 'src/lib/api/generated';

/** The OpenAPI document as the backend builds it, from `uv run` (or `python3 -m uv` when uv is not on PATH). */
function dumpSchema() {
  const args = ['run', '--frozen', '--quiet', 'python', '-m', 'docparse.api.openapi_dump'];
  for (const [command, prefix] of [['uv', []], ['python3', ['-m', 'uv']]]) {
    const run = spawnSync(command, [...prefix, ...args], { cwd: BACKEND, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error?.code === 'ENOENT') continue;
    if (run.status !== 0) {
      process.stderr.write(run.stderr);
      throw new Error(`the backend could not write its OpenAPI document (${command} exited with ${run.status})`);
    }
    return run.stdout;
  }
  throw new Error('uv is needed to read the backend\'s OpenAPI document (pip install uv, or `just setup`)');
}

async function generate(root) {
  writeFileSync(join(root, SCHEMA), dumpSchema());
  await createClient({
    input: join(root, SCHEMA),
    output: { path: join(root, GENERATED) },
    plugins: [
      // enums as objects too, so the UI can list every status without repeating them
      { name: '@hey-api/typescript', enums: 'javascript' },
      '@hey-api/sdk',
      '@hey-api/client-fetch',
    ],
    logs: { level: 'silent' },
  });
}

function files(root, dir) {
  const found = [];
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(relative(root, full));
    }
  };
  walk(join(root, dir));
  return found.sort();
}

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

if (process.argv.includes('--check')) {
  const scratch = mkdtempSync(join(tmpdir(), 'docparse-generate-'));
  try {
    await generate(scratch);
    const names = new Set([SCHEMA, ...files(scratch, GENERATED), ...files(FRONTEND, GENERATED)]);
    const stale = [...names].filter((name) => read(join(scratch, name)) !== read(join(FRONTEND, name)));
    if (stale.length) {
      console.error(`The generated API client is out of date with the backend (${stale.join(', ')}).`);
      console.error('Run `npm run generate` in frontend/ and commit the result.');
      process.exit(1);
    }
    console.log('The generated API client matches the backend.');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
} else {
  await generate(FRONTEND);
  console.log(`wrote ${SCHEMA} and ${GENERATED}/`);
}
