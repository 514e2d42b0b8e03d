/**
 * Supply-chain check: `npm audit --omit=dev --json` over the production dependency tree, summarised.
 * Needs the npm registry (network), so it is a script and never part of `npm test`.
 *
 *   npx tsx scripts/audit.ts            # exit 1 when a high or critical advisory affects a runtime dependency
 *   npx tsx scripts/audit.ts --json     # the summary as JSON
 */
import { spawnSync } from 'node:child_process';

interface AuditVulnerability {
  name: string;
  severity: 'info' | 'low' | 'moderate' | 'high' | 'critical';
  isDirect: boolean;
  via: Array<string | { title?: string; url?: string }>;
  fixAvailable: boolean | { name: string; version: string };
}

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
let report: {
  vulnerabilities?: Record<string, AuditVulnerability>;
  metadata?: { vulnerabilities?: Record<string, number> };
  error?: { summary?: string };
  message?: string;
};
try {
  report = JSON.parse(run.stdout || '{}');
} catch {
  console.error(`npm audit did not answer JSON (exit ${run.status}): ${(run.stderr || '').slice(0, 500)}`);
  process.exit(2);
}
if (report.error) {
  console.error(
    `npm audit failed: ${report.error.summary || report.message || 'unknown error'} (does the registry serve the audit endpoint?)`,
  );
  process.exit(2);
}
const findings = Object.values(report.vulnerabilities ?? {})
  .filter((v) => v.severity === 'high' || v.severity === 'critical')
  .map((v) => ({
    package: v.name,
    severity: v.severity,
    direct: v.isDirect,
    advisories: v.via.map((x) =>
      typeof x === 'string' ? `via ${x}` : `${x.title ?? ''} ${x.url ?? ''}`.trim(),
    ),
    fix:
      v.fixAvailable === true
        ? 'npm audit fix'
        : v.fixAvailable
          ? `${v.fixAvailable.name}@${v.fixAvailable.version}`
          : 'none yet',
  }));
const counts = report.metadata?.vulnerabilities ?? {};
if (process.argv.includes('--json'))
  console.log(JSON.stringify({ counts, highOrCritical: findings }, null, 2));
else {
  console.log('npm audit --omit=dev: advisories by severity');
  console.table(counts);
  if (findings.length) console.table(findings.map((f) => ({ ...f, advisories: f.advisories.join('; ') })));
  else console.log('no high or critical advisories in runtime dependencies');
}
process.exitCode = findings.length ? 1 : 0;
