/**
 * Builds the x-channel stack for CDK tests. Bundling is skipped (`aws:cdk:bundling-stacks: []`) so the
 * tests stay fast; a function whose entry file does not exist yet gets inline placeholder code through
 * the construct's `prebuiltCode` prop, so the template (roles, env, wiring) is still fully checked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HANDLERS, type HandlerName } from '../../lib/handlers';
import { XChannelStack, addNagChecks, type XChannelStackProps } from '../../lib/x-channel-stack';

export const projectRoot = path.resolve(__dirname, '..', '..');

/** Entries that do not exist yet, mapped to inline code so the stack still synthesizes. */
export function codeForMissingEntries(): Partial<Record<HandlerName, lambda.Code>> {
  const code: Partial<Record<HandlerName, lambda.Code>> = {};
  for (const spec of Object.values(HANDLERS)) {
    if (!fs.existsSync(path.join(projectRoot, spec.entry))) {
      code[spec.name] = lambda.Code.fromInline(
        `export const ${spec.exportName} = async () => { throw new Error('not built'); };`,
      );
    }
  }
  return code;
}

export interface Built {
  app: App;
  stack: XChannelStack;
  template: Template;
}

/** A stack as `bin/app.ts` builds it (optionally with nag), without bundling. */
export function buildStack(props: XChannelStackProps = {}, options: { nag?: boolean } = {}): Built {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new XChannelStack(app, 'XChannelTest', {
    env: { region: 'eu-west-1' },
    ...props,
    channel: { prebuiltCode: codeForMissingEntries(), ...props.channel },
  });
  if (options.nag) addNagChecks(app);
  const template = options.nag ? (undefined as unknown as Template) : Template.fromStack(stack);
  return { app, stack, template };
}
