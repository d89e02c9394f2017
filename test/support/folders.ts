/** Folder contents for "nothing was lost" assertions. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Every file under `dir` (relative path -> SHA-256 of its bytes; folders as "dir", links by target); {} for a missing folder. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isSymbolicLink()) {
        out[rel] = `link to ${fs.readlinkSync(path.join(dir, rel))}`;
      } else if (entry.isDirectory()) {
        out[rel] = 'dir';
        walk(rel);
      } else {
        out[rel] = createHash('sha256').update(fs.readFileSync(path.join(dir, rel))).digest('hex');
      }
    }
  };
  if (!fs.existsSync(dir)) return out;
  if (!fs.statSync(dir).isDirectory()) return { '': createHash('sha256').update(fs.readFileSync(dir)).digest('hex') };
  walk('');
  return out;
}

/**
 * The entries directly in `dir` (files with size and modification time, folders by name): that
 * nothing was written there, without hashing a whole checkout (virtual environments included).
 */
export function shallowSnapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const stat = fs.lstatSync(path.join(dir, entry.name));
      return [entry.name, stat.isDirectory() ? 'dir' : `${stat.size} ${stat.mtimeMs}`];
    }),
  );
}
