/**
 * SLURM's compressed host lists, as in SLURM_JOB_NODELIST: `node[01-04,07]`, `gpu[1-2]-ib[0-1]`,
 * `login1,node[3-5]`. A bracket holds comma-separated numbers and ranges; a range keeps the zero
 * padding of its first bound; several brackets in one name multiply out, the last one varying
 * fastest (the order `scontrol show hostnames` prints).
 */
import { invalidArgument } from '../errors.js';

/** Splits on commas outside brackets. */
function topLevelItems(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    if (depth < 0 || depth > 1) break;
    if (c === ',' && depth === 0) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw invalidArgument('the SLURM node list', 'balanced brackets, e.g. node[01-04,07]', list);
  items.push(list.slice(start));
  return items;
}

function expandBracket(body: string, list: string): string[] {
  const values: string[] = [];
  for (const part of body.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw invalidArgument('a range in the SLURM node list', 'numbers or ranges such as 01-04', `[${body}] in ${list}`);
    const [, low, high = low] = match;
    const width = low!.length;
    const from = Number(low);
    const to = Number(high);
    if (to < from) throw invalidArgument('a range in the SLURM node list', 'an ascending range', `${part} in ${list}`);
    for (let n = from; n <= to; n++) values.push(String(n).padStart(width, '0'));
  }
  return values;
}

/** Every host of a compressed list, in order. */
export function expandHostList(list: string): string[] {
  const hosts: string[] = [];
  for (const item of topLevelItems(list.trim())) {
    if (item === '') throw invalidArgument('the SLURM node list', 'host names separated by commas', list);
    // literal text and bracket groups alternate: prefix[...]middle[...]suffix
    let names = [''];
    for (const piece of item.split(/(\[[^\]]*\])/)) {
      const options = piece.startsWith('[') ? expandBracket(piece.slice(1, -1), list) : [piece];
      names = names.flatMap((name) => options.map((option) => name + option));
    }
    hosts.push(...names);
  }
  return hosts;
}

/** The first host of a compressed list (the master of a SLURM job). */
export function firstHost(list: string): string {
  return expandHostList(list)[0]!;
}
