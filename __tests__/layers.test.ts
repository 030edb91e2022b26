/**
 * The layers of src/, bottom up: each folder imports only the folders below it (and itself), and the
 * layers below the constructs are plain data, without cdktf. Every import of every file is read,
 * comments skipped, so a new file or folder is checked as soon as it exists.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.join(__dirname, '..', 'src');

/**
 * Bottom up. `iam` is IAM itself; `bitbucket` the protocol and trust policy built from IAM's types;
 * `pipeline-roles` and `findings` are policies and rules over both; `config` reads the user's file
 * into them; `resolve` asks Bitbucket for its names' UUIDs (the lock file); `constructs` and `stacks` are the CDKTF side; `ci` and `doctor` read a resolved
 * config; `cli` is every command's entry. `index.ts` (the public API) sits on top.
 */
const LAYERS = [
  'iam',
  'bitbucket',
  'pipeline-roles',
  'findings',
  'config',
  'resolve',
  'constructs',
  'stacks',
  'ci',
  'doctor',
  'cli',
  'index.ts',
] as const;

/** The packages of the CDKTF world. */
const CDKTF_PACKAGES = /^(cdktf|constructs|@cdktf\/.*)$/;

/**
 * Layers that may import cdktf. `pipeline-roles` only for `Token.isUnresolved`: its policy builders are
 * public and take tokens (a bucket created in the same stack); it injects the predicate into the IAM
 * layer's `valuesCheck`.
 */
const MAY_IMPORT_CDKTF = new Set<string>(['pipeline-roles', 'constructs', 'stacks', 'cli', 'index.ts']);

/** One import of a file of src/. */
export interface SourceImport {
  /** Relative to src/, e.g. `iam/policy.ts`. */
  readonly file: string;
  /** As written, e.g. `../bitbucket/protocol` or `cdktf`. */
  readonly specifier: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every import, export-from, `import()` and `require()` of every file of src/. */
export function sourceImports(): SourceImport[] {
  return filesUnder(SRC).flatMap((full) => {
    const file = path.relative(SRC, full).split(path.sep).join('/');
    return ts.preProcessFile(readFileSync(full, 'utf8'), true, true).importedFiles.map(({ fileName }) => ({ file, specifier: fileName }));
  });
}

/** The layer of a path relative to src/: its first segment. */
function layerOf(file: string): string {
  return file.split('/')[0];
}

/** What breaks the layering: an import of a layer above, of an unknown layer, or of cdktf where it has no place. */
export function layeringViolations(imports: readonly SourceImport[]): string[] {
  return imports.flatMap(({ file, specifier }) => {
    const layer = layerOf(file);
    const rank = (LAYERS as readonly string[]).indexOf(layer);
    if (rank < 0) return [`${file}: its folder ${layer} is not one of the layers (${LAYERS.join(', ')}); add it in its place`];
    if (!specifier.startsWith('.')) {
      return CDKTF_PACKAGES.test(specifier) && !MAY_IMPORT_CDKTF.has(layer)
        ? [`${file} imports ${specifier}: the ${layer} layer knows nothing of cdktf (inject what it needs, as valuesCheck does)`]
        : [];
    }
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    if (target.startsWith('..')) return [`${file} imports ${specifier}, outside src/`];
    const targetLayer = target === 'index' ? 'index.ts' : layerOf(target);
    const targetRank = (LAYERS as readonly string[]).indexOf(targetLayer);
    return targetRank > rank ? [`${file} imports ${specifier}: ${targetLayer} is above ${layer}`] : [];
  });
}

describe('layers', () => {
  const imports = sourceImports();

  it('reads the imports of every file of src/', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ file: 'constructs/role.ts', specifier: '../bitbucket/trust-policy' });
  });

  it('has no import that runs up the layers, and cdktf only where the layer knows it', () => {
    expect(layeringViolations(imports)).toEqual([]);
  });

  it('keeps cdktf out of the IAM layer', () => {
    expect(imports.filter((i) => layerOf(i.file) === 'iam' && CDKTF_PACKAGES.test(i.specifier))).toEqual([]);
  });

  it('reports an import of a layer above, and cdktf in the IAM layer', () => {
    expect(
      layeringViolations([
        { file: 'iam/policy.ts', specifier: '../bitbucket/protocol' },
        { file: 'iam/rules.ts', specifier: 'cdktf' },
        { file: 'bitbucket/token.ts', specifier: '@cdktf/provider-aws/lib/iam-role' },
        { file: 'config/load.ts', specifier: '../index' },
        { file: 'stacks/app.ts', specifier: '../config/types' },
      ]),
    ).toEqual([
      'iam/policy.ts imports ../bitbucket/protocol: bitbucket is above iam',
      'iam/rules.ts imports cdktf: the iam layer knows nothing of cdktf (inject what it needs, as valuesCheck does)',
      'bitbucket/token.ts imports @cdktf/provider-aws/lib/iam-role: the bitbucket layer knows nothing of cdktf ' +
        '(inject what it needs, as valuesCheck does)',
      'config/load.ts imports ../index: index.ts is above config',
    ]);
  });

  it('reports a folder that is not a layer', () => {
    expect(layeringViolations([{ file: 'misc/util.ts', specifier: '../iam/policy' }])).toEqual([
      `misc/util.ts: its folder misc is not one of the layers (${LAYERS.join(', ')}); add it in its place`,
    ]);
  });
});
