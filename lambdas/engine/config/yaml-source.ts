/**
 * A parsed YAML file that remembers where every node came from, so any error about a value can name
 * `file:line:column` and the key path the user wrote.
 */
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { LineCounter, Node } from 'yaml';
import { ConfigError } from '../../errors.js';

export type YamlPath = readonly (string | number)[];

type YamlLibrary = typeof import('yaml');
// The yaml library (72 modules) is loaded at the first file parsed, not at every command's start: a sync named by
// -t alone reads no file. require() keeps parsing synchronous.
const requireHere = createRequire(import.meta.url);
let yamlLibrary: YamlLibrary | undefined;
function yaml(): YamlLibrary {
  yamlLibrary ??= requireHere('yaml') as YamlLibrary;
  return yamlLibrary;
}

/** `tables.shop.orders.cdc_strategy`: the key path as the user reads it (map keys may contain dots). */
export function formatPath(path: YamlPath): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.');
}

function keyText(key: unknown): string {
  return yaml().isScalar(key) ? String(key.value) : String(key);
}

export class YamlSource {
  readonly value: unknown;

  constructor(
    /** What messages show: relative to the working directory when inside it. */
    readonly display: string,
    private readonly root: Node | null,
    private readonly lines: LineCounter,
    value: unknown,
  ) {
    this.value = value;
  }

  /** `file:line:col` of the value at `path` (or of its key when `onKey`), else of the deepest node that exists. */
  where(path: YamlPath, onKey = false): string {
    let node: unknown = this.root;
    let offset = this.root?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (yaml().isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) break;
        const keyStart = (pair.key as Node | null)?.range?.[0] ?? offset;
        const valueNode = pair.value as Node | null;
        // A null value (`key:`) has no node of its own: point at the key.
        if ((i === path.length - 1 && onKey) || !valueNode?.range) {
          offset = keyStart;
          break;
        }
        offset = valueNode.range[0];
        node = valueNode;
      } else if (yaml().isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item?.range) break;
        offset = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    const pos = this.lines.linePos(offset);
    return `${this.display}:${pos.line}:${pos.col}`;
  }

  /** A ConfigError located at `path`: `file:line:col: a.b.c: message`. */
  error(path: YamlPath, message: string, options: { onKey?: boolean; suggestion?: string } = {}): ConfigError {
    const at = this.where(path, options.onKey);
    const key = path.length > 0 ? `${formatPath(path)}: ` : '';
    return new ConfigError(`${at}: ${key}${message}`, { suggestion: options.suggestion });
  }
}

/** Parses YAML text; malformed YAML is a ConfigError naming the file, line and column. */
export function parseYaml(text: string, display: string): YamlSource {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    const what = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${display}:${pos.line}:${pos.col}: malformed YAML: ${what}`, {
      suggestion: 'Fix the YAML syntax at that line (indentation, a missing space after ":", or an unquoted ":").',
    });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // The yaml library stops a "billion laughs" document (aliases that expand exponentially) here.
    throw new ConfigError(`${display}: refused: ${(e as Error).message} (more than 100 alias expansions)`, {
      suggestion: 'Write the repeated settings out, or use default_table_config instead of YAML aliases.',
    });
  }
  return new YamlSource(display, doc.contents as Node | null, lines, value);
}

/** Configuration files are small; a larger one is refused before it is read (a mistake, or an attack on memory). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** The text of a configuration file, or undefined when it does not exist; refused when over MAX_CONFIG_FILE_BYTES. */
export async function readConfigFile(file: string, display: string): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${display}: ${(e as Error).message}`, { cause: e });
  }
  if (size > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigError(
      `${display} is ${size} bytes; configuration files are at most ${MAX_CONFIG_FILE_BYTES} bytes, so it was not read`,
    );
  }
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${display}: ${(e as Error).message}`, { cause: e });
  }
}
