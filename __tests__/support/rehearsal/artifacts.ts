/**
 * Bitbucket's step artifacts, for the rehearsal's runner: the files of a step's clone matching its
 * `artifacts` globs, kept after the step succeeds and copied into the clones of later steps, at the
 * same paths. It stands in for Bitbucket's artifact storage (there: uploaded, then downloaded into
 * each later step's container). Globs are relative to the clone: `**` any number of path segments,
 * `*` and `?` within one segment; only files are artifacts (`dist/**` takes the files under dist;
 * symbolic links are not followed).
 * @see https://support.atlassian.com/bitbucket-cloud/docs/use-artifacts-in-steps/
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'fs';
import * as path from 'path';

/** An artifact glob as a regular expression on `/`-separated paths relative to the clone. */
export function artifactPattern(pattern: string): RegExp {
  const segments = pattern
    .replace(/^\.\//, '')
    .split('/')
    .filter((s) => s !== '');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') source += last ? '.+' : '(?:[^/]+/)*';
    else {
      source += segment
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]');
      if (!last) source += '/';
    }
  });
  return new RegExp(`^${source}$`);
}

/** The files (paths relative to `cloneDir`, `/`-separated, sorted) matching any of the patterns. */
export function collectArtifacts(cloneDir: string, patterns: readonly string[]): string[] {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const regex = artifactPattern(pattern);
    // Walk only below the pattern's literal leading folders (`cdktf.out/**` never walks node_modules).
    const segments = pattern.replace(/^\.\//, '').split('/');
    const literal = segments.slice(0, -1);
    const firstGlob = literal.findIndex((s) => /[*?]/.test(s));
    const base = (firstGlob === -1 ? literal : literal.slice(0, firstGlob)).join('/');
    for (const file of filesUnder(cloneDir, base)) if (regex.test(file)) found.add(file);
  }
  return [...found].sort();
}

function filesUnder(root: string, relative: string): string[] {
  const folder = path.join(root, relative);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) return filesUnder(root, child);
    return entry.isFile() ? [child] : [];
  });
}

/** The artifacts one step kept. */
export interface ArtifactSet {
  /** The step that made them (its `where`). */
  readonly step: string;
  /** Where the store keeps the files (same relative paths as in the clone). */
  readonly directory: string;
  readonly files: readonly string[];
}

/** Artifacts of a pipeline's steps, kept in a folder of the runner's. */
export class ArtifactStore {
  /** @param directory a folder the store may create and fill; the caller removes it. */
  constructor(private readonly directory: string) {}

  /** Copies the files of `cloneDir` matching `patterns` into the store (after a successful step). */
  save(step: string, cloneDir: string, patterns: readonly string[]): ArtifactSet {
    mkdirSync(this.directory, { recursive: true });
    const directory = mkdtempSync(path.join(this.directory, 'step-'));
    const files = collectArtifacts(cloneDir, patterns);
    copyFiles(cloneDir, directory, files);
    return { step, directory, files };
  }

  /** Copies artifact sets into a fresh clone, in order (a later step's file replaces an earlier one's). */
  restore(sets: readonly ArtifactSet[], cloneDir: string): void {
    for (const set of sets) copyFiles(set.directory, cloneDir, set.files);
  }
}

function copyFiles(from: string, to: string, files: readonly string[]): void {
  for (const file of files) {
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    copyFileSync(path.join(from, file), path.join(to, file)); // keeps the mode: scripts stay executable
  }
}
