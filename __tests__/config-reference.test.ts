/**
 * The configuration reference of docs/configuration.md: rendered from the same field declarations
 * (`src/config/fields.ts`) as the validator and the JSON Schema, so it names every field the synth
 * knows, and a change to the declarations fails here until `npm run docs` rewrites the table.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { FIELDS, fieldNames } from '../src/config/fields';
import { CONFIG_REFERENCE_MARKERS, configReferenceMarkdown, configReferenceRows, withConfigReference } from '../src/config/reference';
import { ROOT } from './support/synth';

const page = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');

describe('the configuration reference', () => {
  it('is the committed table of docs/configuration.md, regenerated from the field declarations (npm run docs)', () => {
    const { start, end } = CONFIG_REFERENCE_MARKERS;
    const committed = page.slice(page.indexOf(start) + start.length, page.indexOf(end)).trim();
    expect(committed).toBe(configReferenceMarkdown());
    expect(withConfigReference(page)).toBe(page);
  });

  it('has a row for every declared field of every object the configuration reaches', () => {
    const rows = configReferenceRows().map((r) => r.field);
    expect(new Set(rows).size).toBe(rows.length);
    const leaves = new Set(rows.map((f) => f.split('.').pop()!.replace(/\[\]$/, '')));
    for (const [name, spec] of Object.entries(FIELDS)) {
      const { required, optional } = fieldNames(spec);
      for (const field of [...required, ...optional])
        expect({ name, field, shown: leaves.has(field) }).toEqual({ name, field, shown: true });
    }
    expect(rows).toEqual(
      expect.arrayContaining(['workspace', 'state.encryption.kmsKeyArn', 'accounts[].roles[].repositories[].environments[].uuid']),
    );
  });

  it("marks required fields, shows defaults, and states a rule in the validator's words", () => {
    const row = (field: string) => configReferenceRows().find((r) => r.field === field);
    expect(row('workspace')).toMatchObject({ type: 'string', default: 'required' });
    expect(row('workspaceUuid')?.rule).toContain('lock file');
    expect(row('accounts[].roles[].maxSessionDurationSeconds')).toMatchObject({ type: 'integer', default: '`3600`' });
    expect(row('accounts[].roles[].maxSessionDurationSeconds')?.rule).toContain('3600-43200');
    expect(row('accounts[].roles[].name')?.rule).toContain('Must be 1-64 characters of');
    expect(row('accounts[].roles[].repositories[].environments')?.type).toBe('(string or object)[]');
  });

  it('keeps every row one table row: pipes escaped, no line breaks', () => {
    const lines = configReferenceMarkdown().split('\n');
    expect(lines).toHaveLength(2 + configReferenceRows().length);
    for (const line of lines) expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(6);
  });

  it('refuses a page without its markers', () => {
    expect(() => withConfigReference('# Configuration\n')).toThrow(/config-reference:start/);
  });
});
