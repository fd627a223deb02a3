import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Keeps core's shape from drifting: arrows between files and between folders point one way,
// no source file grows past what a reader can hold, and storage specifics stay in their own packages.

const sourceRoot = dirname(fileURLToPath(import.meta.url));
const MAX_SOURCE_LINES = 400;
const IMPORT_PATTERN = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function resolveImport(fromFile: string, specifier: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => known.has(candidate));
}

/** Strongly connected components with more than one member: each one is an import cycle. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const files = sourceFiles(sourceRoot);
const known = new Set(files);
const fileGraph = new Map<string, Set<string>>();
const folderGraph = new Map<string, Set<string>>();
const folderOf = (file: string): string => relative(sourceRoot, file).split('/')[0] as string;

for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const targets = new Set<string>();
  for (const match of text.matchAll(IMPORT_PATTERN)) {
    const target = resolveImport(file, match[1] as string, known);
    if (target) targets.add(target);
  }
  fileGraph.set(
    relative(sourceRoot, file),
    new Set([...targets].map((target) => relative(sourceRoot, target))),
  );
  // Entry points at the root gather everything; they sit above every folder.
  if (!relative(sourceRoot, file).includes('/')) continue;
  const folder = folderOf(file);
  const edges = folderGraph.get(folder) ?? new Set<string>();
  for (const target of targets) {
    if (relative(sourceRoot, target).includes('/') && folderOf(target) !== folder)
      edges.add(folderOf(target));
  }
  folderGraph.set(folder, edges);
}

describe('core architecture', () => {
  it('has no import cycle between files', () => {
    expect(cycles(fileGraph)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(cycles(folderGraph)).toEqual([]);
  });

  it(`keeps every source file at or under ${MAX_SOURCE_LINES} lines`, () => {
    const oversized = files
      .map((file) => ({
        file: relative(sourceRoot, file),
        lines: readFileSync(file, 'utf8').split('\n').length,
      }))
      .filter(({ lines }) => lines > MAX_SOURCE_LINES);
    expect(oversized).toEqual([]);
  });

  it('holds nothing specific to Redis (that lives in @tollgate/redis)', () => {
    const mentions = files
      .filter((file) => /redis/i.test(readFileSync(file, 'utf8')))
      .map((file) => relative(sourceRoot, file));
    expect(mentions).toEqual([]);
  });
});
