/**
 * `npm run sign-in-link`: prints a fresh one-time sign-in link for the admin console of the running
 * `npm start` (the one it printed works once and for 10 minutes). Asks the local host with the admin
 * token from `.x-channel/local.json` (`--data-dir DIR` or `XC_DATA_DIR` for another data directory).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

function fail(message: string): never {
  process.stderr.write(`sign-in-link: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
  const dir = values['data-dir'] ?? process.env.XC_DATA_DIR ?? '.x-channel';
  const file = path.resolve(dir, 'local.json');
  let local: { apiUrl: string; adminToken: string };
  try {
    local = JSON.parse(readFileSync(file, 'utf8')) as typeof local;
  } catch {
    return fail(`cannot read ${file}: start x-channel first with \`npm start\``);
  }
  let res: Response;
  try {
    res = await fetch(`${local.apiUrl}/_local/sign-in-links`, {
      method: 'POST',
      headers: { authorization: `Bearer ${local.adminToken}` },
    });
  } catch {
    return fail(`nothing answers at ${local.apiUrl}: is \`npm start\` running?`);
  }
  const body = (await res.json().catch(() => ({}))) as { url?: string; expiresAt?: string; detail?: string };
  if (res.status !== 201 || !body.url) {
    return fail(`the local host refused (HTTP ${res.status}): ${body.detail ?? 'no detail'}`);
  }
  process.stdout.write(
    `${body.url}\n(one-time sign-in link for the admin console, valid until ${body.expiresAt})\n`,
  );
}

void main();
