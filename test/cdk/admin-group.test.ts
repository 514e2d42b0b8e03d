/**
 * The `adminGroup` prop (issue 19 item 8): the api function is told the group, the construct's own user
 * pool gets the group with every `adminEmails` user in it, and a bad name fails at synth by name.
 */
import { buildStack } from './build';

describe('adminGroup', () => {
  it('sets ADMIN_GROUP on the api only, creates the group and puts the admins in it', () => {
    // Prepare + Act
    const { stack, template } = buildStack({
      channel: { adminGroup: 'xc-admins', adminEmails: ['a@example.com', 'b@example.com'] },
    });
    // Assess
    const fns = template.findResources('AWS::Lambda::Function');
    const envOf = (name: 'api' | 'poller') =>
      fns[stack.getLogicalId(stack.channel.functions[name].node.defaultChild as never)].Properties.Environment
        .Variables;
    expect(envOf('api').ADMIN_GROUP).toBe('xc-admins');
    expect(envOf('poller').ADMIN_GROUP).toBeUndefined();
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'xc-admins' });
    const members = Object.values(template.findResources('AWS::Cognito::UserPoolUserToGroupAttachment'));
    expect(members.map((m) => m.Properties.Username).sort()).toEqual(['a@example.com', 'b@example.com']);
    for (const m of members) {
      expect(m.Properties.GroupName).toBe('xc-admins');
      expect(m.DependsOn).toHaveLength(2);
    }
  });

  it('without it: no group, no ADMIN_GROUP', () => {
    const { template } = buildStack({ channel: { adminEmails: ['a@example.com'] } });
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.ADMIN_GROUP).toBeUndefined();
    }
  });

  it('a name with a space fails at synth, naming the prop', () => {
    expect(() => buildStack({ channel: { adminGroup: 'x admins' } })).toThrow(
      'adminGroup must be a Cognito group name (1-128 letters, digits, marks, symbols or punctuation, no spaces), got "x admins"',
    );
  });
});
