/**
 * One real bundle of every function, the way `cdk synth` builds them (local esbuild, no Docker): the
 * entries in lib/handlers.ts must exist and bundle into ESM with the createRequire banner.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { HANDLERS } from '../../lib/handlers';
import { XChannelStack } from '../../lib/x-channel-stack';
import { projectRoot } from './build';

describe('bundling', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-channel-cdk-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('every entry in lib/handlers.ts exists', () => {
    const missing = Object.values(HANDLERS)
      .filter((spec) => !fs.existsSync(path.join(projectRoot, spec.entry)))
      .map((spec) => `${spec.name}: ${spec.entry}`);
    expect(missing).toEqual([]);
  });

  it('each function bundles to an ESM index.mjs with the createRequire banner', () => {
    // Asset metadata names each function's bundle directory (the CLI turns it on; a bare App does not).
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new XChannelStack(app, 'XChannelBundle', { env: { region: 'eu-west-1' } });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const assetDirs = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Metadata?.['aws:asset:path']);
    expect(assetDirs).toHaveLength(Object.keys(HANDLERS).length);
    for (const dir of assetDirs) {
      const file = path.join(outdir, dir!, 'index.mjs');
      expect(fs.existsSync(file)).toBe(true);
      const head = fs.readFileSync(file, 'utf8').slice(0, 200);
      expect(head).toContain('createRequire');
      expect(fs.existsSync(`${file}.map`)).toBe(true);
    }
  });
});
