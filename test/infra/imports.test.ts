// Dependencies point one way (docs/architecture.md, "Layers"): this test reads every import of src/ and cards/
// with the TypeScript parser (type-only imports, `export … from` and `import('…')` types included) and fails on
// an import cycle, on an import of a layer the importer may not use, and on one adapter or platform folder
// importing another.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The layer of a file: the first entry whose prefix the repo-relative path starts with. A file under src/ that
 * matches none fails the test, so a new top-level folder or file has to be placed here first.
 */
const LAYERS: [prefix: string, layer: Layer][] = [
  ['src/domain/', 'domain'],
  ['cards/', 'cards'],
  ['src/ports/', 'ports'],
  ['src/inbound/', 'inbound'],
  ['src/app/', 'app'],
  ['src/adapters/', 'adapters'],
  ['src/platforms/', 'platforms'],
  ['src/config/', 'config'],
  ['src/http/', 'http'],
  ['src/jobs/', 'jobs'],
  ['src/cli/', 'cli'],
  ['src/logger.ts', 'logger'],
  ['src/chat.ts', 'composition'],
  ['src/service.ts', 'composition'],
  ['src/main.ts', 'composition'],
];

type Layer = 'domain' | 'cards' | 'ports' | 'inbound' | 'app' | 'adapters' | 'platforms' | 'config' | 'http' | 'jobs' | 'cli' | 'logger' | 'composition';

/**
 * Which layers each layer may import (its own always included). The order of docs/architecture.md:
 * domain → cards → ports → inbound → application → adapters, platforms → config → http, jobs → composition.
 *
 * - domain: the pure engine, nothing else.
 * - cards: cards and the domain's types; `import type` only (a card builder runs no domain code).
 * - ports: the interfaces; they speak in domain and card types.
 * - inbound: the mechanism of every way in (src/inbound/): request bodies within a limit, the one refusal
 *   shape, background work, the answer deadline. It knows no platform and no use case; platforms and http use it.
 * - app: the use cases, against the ports only.
 * - adapters, platforms: implementations of the ports. They do not import app: the application reaches them
 *   only through the ports (Store, Messenger), and they reach it only through ports (InboundSink), so a
 *   store or a platform can be replaced without touching a use case. Each takes its own validated settings
 *   (a platform's config.ts), so neither imports config.
 * - config: reads and validates the environment and the config files: the env schema is composed from the
 *   platform registry's descriptors, and so is the org parser (config/org.ts binds app/inputs.ts's to the registry).
 * - http, jobs: the ways in; they call the use cases, so they import app. Neither imports a store adapter or a
 *   platform (the console's routes included: they are the console platform's, lent the API's body reader).
 * - cli: command-line tools that talk to a running tierbot over its HTTP API (npm run import); they share
 *   pure helpers of app (the CSV line count), never a store or the server's modules.
 * - logger: a leaf (pino); everything outside the pure core (domain, cards) may log.
 * - composition (chat.ts, service.ts, main.ts): wiring; imports anything.
 * Peers of one ring (adapters, platforms, http, jobs) do not import each other.
 */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  domain: [],
  cards: ['domain'],
  ports: ['domain', 'cards', 'logger'],
  inbound: ['ports', 'logger'],
  app: ['domain', 'cards', 'ports', 'logger'],
  adapters: ['domain', 'ports', 'logger'],
  platforms: ['domain', 'cards', 'ports', 'inbound', 'logger'],
  config: ['domain', 'cards', 'ports', 'app', 'platforms', 'logger'],
  http: ['domain', 'cards', 'ports', 'inbound', 'app', 'config', 'logger'],
  jobs: ['domain', 'cards', 'ports', 'app', 'config', 'logger'],
  cli: ['domain', 'ports', 'app', 'logger'],
  logger: [],
  composition: ['domain', 'cards', 'ports', 'inbound', 'app', 'config', 'adapters', 'platforms', 'http', 'jobs', 'logger'],
};

/** Imports of another layer that must be type-only (importer layer → imported layer). */
const TYPE_ONLY: [from: Layer, to: Layer][] = [['cards', 'domain']];

/**
 * Deliberate exceptions (importer prefix → imported prefix). Keep this list short and say why. None today: the
 * console's act-as routes are the console platform's receiver (src/platforms/console/routes.ts), wired by the
 * composition like every platform's.
 */
const EXCEPTIONS: [from: string, to: string][] = [];

/** Layers whose sub-folders are independent units: `<layer>/<name>/` imports only itself and `<layer>/shared/`. */
const UNIT_FOLDERS = ['src/adapters/', 'src/platforms/'];

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Every module specifier of one file, with whether the import carries types only. */
function specifiersOf(file: string): { spec: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : null;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : null;
      const typeOnly = node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly));
      out.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, typeOnly: true });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      out.push({ spec: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function resolve(from: string, spec: string): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`]) {
    const abs = path.join(ROOT, candidate);
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return candidate;
  }
  return null;
}

function readGraph(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = [...sourceFiles('src'), ...sourceFiles('cards')].sort();
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const from of files) {
    for (const { spec, typeOnly } of specifiersOf(from)) {
      if (!spec.startsWith('.')) continue; // a package
      const to = resolve(from, spec);
      if (to) edges.push({ from, to, typeOnly });
      else unresolved.push(`${from} → ${spec}`);
    }
  }
  return { files, edges, unresolved };
}

function layerOf(file: string): Layer | null {
  return LAYERS.find(([prefix]) => file.startsWith(prefix))?.[1] ?? null;
}

/** One cycle per back edge of a depth-first walk, as a path `a → b → … → a`. Empty when there is none. */
function findCycles(edges: Pick<Edge, 'from' | 'to'>[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const walk = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      const s = state.get(to);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (s === undefined) walk(to);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...next.keys()].sort()) if (!state.has(node)) walk(node);
  return cycles;
}

/** Every import that breaks the layer table, the type-only rule or the unit-folder rule, as a readable line. */
function layerViolations(edges: Edge[]): string[] {
  const out = new Set<string>();
  for (const e of edges) {
    const a = layerOf(e.from);
    const b = layerOf(e.to);
    if (!a || !b) continue; // reported by the table test
    const line = `${e.from} (${a}) → ${e.to} (${b})`;
    if (EXCEPTIONS.some(([f, t]) => e.from.startsWith(f) && e.to.startsWith(t))) continue;
    if (a !== b && !MAY_IMPORT[a].includes(b)) out.add(`${line}: ${a} may import only ${[a, ...MAY_IMPORT[a]].join(', ')}`);
    else if (!e.typeOnly && TYPE_ONLY.some(([f, t]) => f === a && t === b)) out.add(`${line}: must be \`import type\``);
    const unit = UNIT_FOLDERS.find((u) => e.from.startsWith(u) && e.to.startsWith(u));
    if (unit) {
      const fromUnit = e.from.slice(unit.length).split('/');
      const toUnit = e.to.slice(unit.length).split('/');
      // a top-level file of the layer (the registry) may use every unit; a unit uses itself and shared/
      if (fromUnit.length > 1 && toUnit.length > 1 && toUnit[0] !== fromUnit[0] && toUnit[0] !== 'shared') {
        out.add(`${line}: ${unit}${fromUnit[0]}/ may import only its own folder and ${unit}shared/`);
      }
    }
  }
  return [...out];
}

const graph = readGraph();

describe('imports of src/ and cards/', () => {
  it('reads a real graph: every relative import resolves to a file', () => {
    expect(graph.files.length).toBeGreaterThan(50);
    expect(graph.edges.length).toBeGreaterThan(200);
    expect(graph.edges.filter((e) => e.typeOnly).length).toBeGreaterThan(20);
    expect(graph.unresolved).toEqual([]);
  });

  it('places every file in a layer of the table', () => {
    expect(graph.files.filter((f) => layerOf(f) === null)).toEqual([]);
  });

  it('has no import cycles (type-only imports included)', () => {
    expect(findCycles(graph.edges).map((c) => c.join(' → '))).toEqual([]);
  });

  it('has no import of a layer above or beside its own, and no unit folder imports another', () => {
    expect(layerViolations(graph.edges)).toEqual([]);
  });

  it('reads request bodies in one place: only src/inbound/ imports raw-body', () => {
    const readers = graph.files.filter((f) => specifiersOf(f).some((s) => s.spec === 'raw-body'));
    expect(readers).toEqual(['src/inbound/body.ts']);
  });

  it('needs every listed exception', () => {
    const unused = EXCEPTIONS.filter(([f, t]) => !graph.edges.some((e) => e.from.startsWith(f) && e.to.startsWith(t)));
    expect(unused).toEqual([]);
  });

  it('the checks fail on a cycle, an upward import, a value import of the domain in cards and a cross-unit import', () => {
    const cycle = findCycles([
      { from: 'src/domain/a.ts', to: 'src/domain/b.ts' },
      { from: 'src/domain/b.ts', to: 'src/domain/c.ts' },
      { from: 'src/domain/c.ts', to: 'src/domain/a.ts' },
      { from: 'src/domain/c.ts', to: 'src/domain/d.ts' },
    ]);
    expect(cycle.map((c) => c.join(' → '))).toEqual(['src/domain/a.ts → src/domain/b.ts → src/domain/c.ts → src/domain/a.ts']);
    const bad = layerViolations([
      { from: 'src/app/outbox.ts', to: 'src/platforms/shared/outbound.ts', typeOnly: false },
      { from: 'src/domain/metrics.ts', to: 'src/ports/store.ts', typeOnly: true },
      { from: 'src/http/api.ts', to: 'src/service.ts', typeOnly: true },
      { from: 'cards/model.ts', to: 'src/domain/types.ts', typeOnly: false },
      { from: 'src/adapters/mongo/mongo-store.ts', to: 'src/adapters/memory/ingest-plan.ts', typeOnly: false },
    ]);
    expect(bad).toHaveLength(5);
    expect(bad[0]).toContain('app may import only app, domain, cards, ports, logger');
    const fine = layerViolations([
      { from: 'src/app/outbox.ts', to: 'src/ports/delivery.ts', typeOnly: false },
      { from: 'cards/model.ts', to: 'src/domain/types.ts', typeOnly: true },
      { from: 'src/adapters/mongo/mongo-store.ts', to: 'src/adapters/shared/ingest-plan.ts', typeOnly: false },
      { from: 'src/service.ts', to: 'src/http/api.ts', typeOnly: false },
    ]);
    expect(fine).toEqual([]);
  });
});
