/**
 * The README and docs/ link to each other by relative paths and heading anchors: every such link
 * must reach a file that exists and, with an anchor, a heading of that file (GitHub's slugs).
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { ROOT } from './support/synth';

const PAGES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f)),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The page's text outside fenced code blocks. */
function prose(text: string): string {
  return text
    .split(/^```/m)
    .filter((_, i) => i % 2 === 0)
    .join('\n');
}

function anchors(file: string): Set<string> {
  const text = prose(readFileSync(path.join(ROOT, file), 'utf8'));
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

describe('the README and docs/', () => {
  it.each(PAGES)('%s links only to files and headings that exist', (page) => {
    const text = prose(readFileSync(path.join(ROOT, page), 'utf8'));
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? page : path.normalize(path.join(path.dirname(page), file));
      if (!existsSync(path.join(ROOT, resolved))) broken.push(`${target}: no file ${resolved}`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
        broken.push(`${target}: no heading #${anchor} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });

  it('keep the README a few screens long, and the rest in docs/', () => {
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(300);
  });
});
