/**
 * A small reader of the package's emitted declaration files (dist/lib/**.d.ts), enough to answer:
 * which of our own types do the public signatures use, and can a user name each of them?
 * It understands the declaration forms tsc emits: `export declare function/class/const`,
 * `(export) interface/type/enum`, relative `import { ... } from`, `export { ... } from` and
 * `export * (as ns) from`.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A declaration of ours: the .d.ts that declares it and its name there. */
export interface DeclRef {
  file: string;
  name: string;
}

interface ModuleInfo {
  /** Locally declared names and their declaration text. */
  declarations: Map<string, string>;
  /** Local name -> where it is imported from. */
  imports: Map<string, DeclRef>;
  /** Exported name -> the declaration it stands for (re-exports resolved one step). */
  exports: Map<string, DeclRef>;
  /** Modules re-exported whole (`export * from`). */
  starExports: string[];
  /** Namespaces (`export * as ns from`). */
  namespaces: Map<string, string>;
}

const cache = new Map<string, ModuleInfo>();

const resolveModule = (from: string, spec: string) => path.resolve(path.dirname(from), spec.replace(/\.js$/, '.d.ts'));

/** The text of the declaration that starts at `start`: to its matching closing brace, or its `;` at depth 0. */
function declarationText(source: string, start: number): string {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const c = source[i];
    if (c === '{' || c === '(' || c === '<' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === '>' || c === ']') {
      if (c === '>' && source[i - 1] === '=') continue; // an arrow, not a type argument
      depth--;
      if (depth === 0 && c === '}' && /^(export )?(declare )?(interface|class|enum|namespace) /.test(source.slice(start, start + 30))) return source.slice(start, i + 1);
    } else if (c === ';' && depth === 0) return source.slice(start, i + 1);
  }
  return source.slice(start);
}

function names(list: string): [string, string][] {
  return list
    .split(',')
    .map((item) => item.replace(/\btype\s+/, '').trim())
    .filter(Boolean)
    .map((item) => {
      const [original, alias] = item.split(/\s+as\s+/);
      return [original!.trim(), (alias ?? original)!.trim()];
    });
}

export function readModule(file: string): ModuleInfo {
  const cached = cache.get(file);
  if (cached) return cached;
  // comments hold prose with braces, angle brackets and semicolons: drop them before reading the structure
  const source = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const info: ModuleInfo = { declarations: new Map(), imports: new Map(), exports: new Map(), starExports: [], namespaces: new Map() };
  cache.set(file, info);
  for (const m of source.matchAll(/^import (?:type )?\{([^}]*)\} from '(\.[^']+)';/gm)) {
    for (const [original, local] of names(m[1]!)) info.imports.set(local, { file: resolveModule(file, m[2]!), name: original });
  }
  for (const m of source.matchAll(/^export (?:type )?\{([^}]*)\} from '(\.[^']+)';/gm)) {
    for (const [original, alias] of names(m[1]!)) info.exports.set(alias, { file: resolveModule(file, m[2]!), name: original });
  }
  for (const m of source.matchAll(/^export \* from '(\.[^']+)';/gm)) info.starExports.push(resolveModule(file, m[1]!));
  for (const m of source.matchAll(/^export \* as (\w+) from '(\.[^']+)';/gm)) info.namespaces.set(m[1]!, resolveModule(file, m[2]!));
  for (const m of source.matchAll(/^(export )?(?:declare )?(?:abstract )?(interface|type|class|function|const|enum) (\w+)/gm)) {
    const text = declarationText(source, m.index!);
    info.declarations.set(m[3]!, (info.declarations.get(m[3]!) ?? '') + text);
    if (m[1]) info.exports.set(m[3]!, { file, name: m[3]! });
  }
  for (const m of source.matchAll(/^export \{([^}]*)\};/gm)) {
    for (const [original, alias] of names(m[1]!)) info.exports.set(alias, info.imports.get(original) ?? { file, name: original });
  }
  return info;
}

/** Follows re-exports and imports to the module that declares `ref`. */
export function resolveDecl(ref: DeclRef, seen = new Set<string>()): DeclRef | undefined {
  const key = `${ref.file}#${ref.name}`;
  if (seen.has(key) || !fs.existsSync(ref.file)) return undefined;
  seen.add(key);
  const info = readModule(ref.file);
  if (info.declarations.has(ref.name)) return ref;
  const next = info.exports.get(ref.name) ?? info.imports.get(ref.name);
  if (next) return resolveDecl(next, seen);
  for (const star of info.starExports) {
    const found = resolveDecl({ file: star, name: ref.name }, seen);
    if (found) return found;
  }
  return undefined;
}

/** Every name a module exports (its own, re-exported, and `export *`), resolved to declarations; namespaces included with a prefix. */
export function publicDeclarations(file: string, prefix = ''): Map<string, DeclRef> {
  const out = new Map<string, DeclRef>();
  const info = readModule(file);
  for (const [name, ref] of info.exports) {
    const decl = resolveDecl(ref);
    if (decl) out.set(`${prefix}${name}`, decl);
  }
  for (const star of info.starExports) for (const [name, decl] of publicDeclarations(star, prefix)) out.set(name, decl);
  for (const [ns, target] of info.namespaces) for (const [name, decl] of publicDeclarations(target, `${prefix}${ns}.`)) out.set(name, decl);
  return out;
}

/** The declarations of ours that `ref`'s declaration text names (types, classes, ...). */
export function referencedDeclarations(ref: DeclRef): DeclRef[] {
  const info = readModule(ref.file);
  const text = info.declarations.get(ref.name) ?? '';
  const out: DeclRef[] = [];
  // our types and classes are PascalCase; lower-case words are properties and functions
  for (const id of new Set(text.match(/\b[A-Z]\w*\b/g) ?? [])) {
    if (id === ref.name) continue;
    const local = info.declarations.has(id) ? { file: ref.file, name: id } : info.imports.get(id);
    const decl = local && resolveDecl(local);
    if (decl) out.push(decl);
  }
  return out;
}
