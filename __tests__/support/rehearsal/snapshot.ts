/**
 * The repository Bitbucket would clone: a bare repository in the rehearsal's folder holding one
 * commit on the pipeline's branch. The commit is the working tree as `git add -A` would commit it
 * (tracked files with their uncommitted changes, and untracked files that are not ignored), so a
 * rehearsal tries what you are about to push, and a configuration you have not committed yet.
 *
 * Files can be replaced in that commit (the rehearsal replaces the provider lock file: the stub
 * provider's checksums are not hashicorp/aws's). The project's own index, refs and work tree are
 * left alone; only new objects are written into its object store (git collects them as garbage).
 */
import { execFileSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync } from 'fs';
import * as path from 'path';

/** A commit in a bare repository. */
export interface Snapshot {
  /** The bare repository to clone from. */
  readonly repository: string;
  readonly commit: string;
  /** The branches that point at the commit. */
  readonly branches: readonly string[];
  /** True when the working tree differs from HEAD (before any replacement). */
  readonly uncommitted: boolean;
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'rehearsal',
  GIT_AUTHOR_EMAIL: 'rehearsal@localhost',
  GIT_COMMITTER_NAME: 'rehearsal',
  GIT_COMMITTER_EMAIL: 'rehearsal@localhost',
};

function git(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): string {
  return execFileSync('git', [...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...GIT_IDENTITY, ...env },
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  }).trim();
}

/**
 * Commits the working tree of `root` (plus `replacements`: path -> content) onto `branches` of a new
 * bare repository at `<dir>/repository.git`.
 */
export function snapshotWorkingTree(
  root: string,
  dir: string,
  branches: readonly string[],
  replacements: Readonly<Record<string, string>> = {},
): Snapshot {
  const top = git(root, ['rev-parse', '--show-toplevel']);
  const gitDir = git(root, ['rev-parse', '--absolute-git-dir']);
  mkdirSync(dir, { recursive: true });
  const index = path.join(dir, 'snapshot.index');
  // Starting from a copy of the real index keeps `git add -A` fast (its stat data is current).
  if (existsSync(path.join(gitDir, 'index'))) copyFileSync(path.join(gitDir, 'index'), index);
  const env = { GIT_INDEX_FILE: index };
  git(top, ['add', '-A'], env);
  const tree = git(top, ['write-tree'], env);
  const head = git(top, ['rev-parse', 'HEAD']);
  const uncommitted = tree !== git(top, ['rev-parse', 'HEAD^{tree}']);
  for (const [file, content] of Object.entries(replacements)) {
    const blob = git(top, ['hash-object', '-w', '--stdin'], {}, content);
    git(top, ['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], env);
  }
  const message = `rehearsal of ${head.slice(0, 12)}${uncommitted ? ' with uncommitted changes' : ''}`;
  const commit = git(top, ['commit-tree', git(top, ['write-tree'], env), '-p', head, '-m', message]);
  const repository = path.join(dir, 'repository.git');
  git(dir, ['init', '--quiet', '--bare', repository]);
  git(top, ['push', '--quiet', repository, ...branches.map((branch) => `${commit}:refs/heads/${branch}`)]);
  return { repository, commit, branches, uncommitted };
}
