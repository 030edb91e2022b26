/**
 * The benchmark's floor: an empty CDKTF app that loads exactly the modules the synth loads (cdktf,
 * constructs and the same deep `@cdktf/provider-aws/lib/...` imports; `bench.ts` bundles it as
 * `scripts/synth.js` bundles the synth and checks both bundles hold the same node_modules files) and
 * synthesizes one empty stack. The synth cannot be faster than this; the difference is the project's
 * own work.
 *
 * Usage: node dist/bench/floor.js <outdir>
 */
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { readFileSync } from 'fs';
import * as path from 'path';

// Referenced, so the bundler keeps every import (an unused import would be dropped, and not loaded).
const loaded = [IamOpenidConnectProvider, IamPolicy, IamRole, IamRolePolicy, IamRolePolicyAttachment, AwsProvider, Construct, readFileSync];
if (loaded.some((module) => typeof module !== 'function')) throw new Error('a module of the floor did not load');

const outdir = path.resolve(process.argv[2] ?? 'cdktf.out');
const app = new App({ outdir });
new TerraformStack(app, 'floor');
app.synth();
