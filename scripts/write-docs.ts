// Writes the generated parts of the docs (`npm run docs`): the configuration reference of
// docs/configuration.md from the field declarations, and the tables of docs/permissions.md from the
// policies the builders generate for the bundled example (config/example.json with its lock file).
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { readConfigFile } from '../src/config/load';
import { policyContext } from '../src/config/pipeline-section';
import { withConfigReference } from '../src/config/reference';
import { stateStoragePolicies } from '../src/config/state-section';
import { permissionTableMarkdown, resourcePolicyTableMarkdown } from '../src/pipeline-roles';

const root = path.resolve(__dirname, '..');

/** `text` with the lines between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` replaced by `table`. */
function withTable(text: string, marker: string, table: string): string {
  const pattern = new RegExp(`(<!-- ${marker}:start -->\\n)[\\s\\S]*?(\\n<!-- ${marker}:end -->)`);
  if (!pattern.test(text)) throw new Error(`docs: the markers of ${marker} are missing`);
  return text.replace(pattern, (_, start: string, end: string) => `${start}${table.trimEnd()}${end}`);
}

function rewrite(relative: string, change: (text: string) => string): void {
  const file = path.join(root, relative);
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  if (after !== before) writeFileSync(file, after);
  process.stdout.write(`${after === before ? 'unchanged' : 'wrote'} ${relative}\n`);
}

rewrite('docs/configuration.md', withConfigReference);

const { config } = readConfigFile(path.join(root, 'config', 'example.json'));
const production = config.accounts.find((a) => a.name === 'production')!;
const context = policyContext({
  pipeline: config.pipeline!,
  account: production,
  bootstrap: production,
  workspace: config.workspace,
  state: config.state,
});
rewrite('docs/permissions.md', (text) =>
  withTable(
    withTable(text, 'permission-table', permissionTableMarkdown(context, { includeBoundary: true })),
    'state-bucket-policy-table',
    resourcePolicyTableMarkdown(stateStoragePolicies(config).bucketPolicy),
  ),
);
