/**
 * The one YAML parser of ecl (configuration files): one document of YAML 1.2, core schema (`true`,
 * `null`, `0x1F` and `1e3` are typed; `yes`, `on` and `2001-12-14` stay strings, `%YAML 1.1`
 * included), into plain objects, arrays and scalars. Duplicate keys are an error, `__proto__` is
 * an ordinary key, and aliases are bounded as below.
 *
 * Why js-yaml's ES module build: it uses no Node module, so in Deno it loads no Node compatibility
 * layer. The `yaml` package's Node build (the one Deno resolves) is CommonJS that requires
 * `node:process` and `node:buffer`: it cost `ecl read` from source ~40 ms of CPU and ~9 MiB, and
 * its first parse ~8 ms (js-yaml's: ~4 ms).
 * @module
 */
// deno-lint-ignore no-import-prefix -- see lib/store.ts
import { loadAll, YAMLException } from "npm:js-yaml@^5";

/**
 * Most uses of one anchor's aliases, each weighted by the copies that the aliases nested in the
 * anchor's node make when expanded: `&a [x]` may be aliased 100 times, an anchor holding 10 aliases
 * of it 10 times. Expanded, a few lines of aliases of aliases would be billions of values (the
 * "billion laughs"); this is the `yaml` package's `maxAliasCount` rule, with its default.
 */
const MAX_ALIAS_COUNT = 100;

/** A document that is not valid YAML, or not one document, or aliased too much. */
export class YamlError extends Error {
  override name = "YamlError";
  /** 1-based line and column of the problem, when the parser knows them. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  /** An error with a one-line `message`, at `line` and `column` when known. */
  constructor(message: string, line?: number, column?: number, options?: ErrorOptions) {
    super(message, options);
    this.line = line;
    this.column = column;
  }
}

/**
 * The value of the one YAML document in `text` (`undefined` for no document: an empty text, only
 * comments).
 * @throws {YamlError} for a syntax error, several documents, or too many aliases
 */
export function parseYaml(text: string): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text);
  } catch (error) {
    // js-yaml throws YAMLException, with the position when it has one; anything else as it is.
    const known = error instanceof YAMLException;
    const reason = known ? error.reason : String((error as Error)?.message ?? error);
    const mark = known ? error.mark : undefined;
    throw new YamlError(reason.split("\n")[0], oneBased(mark?.line), oneBased(mark?.column), {
      cause: error,
    });
  }
  if (documents.length > 1) {
    throw new YamlError(`Expected one document, found ${documents.length} (separated by ---)`);
  }
  checkAliases(documents[0]);
  return documents[0];
}

function oneBased(index: number | undefined): number | undefined {
  return index === undefined ? undefined : index + 1;
}

/**
 * Refuse `value` when aliases would multiply it beyond {@link MAX_ALIAS_COUNT}. In parsed YAML an
 * alias of a collection is one more reference to the same object (of a scalar, a copy: harmless),
 * and a collection may hold itself (`&a [*a]`). Walks each collection once, without recursion (a
 * chain of aliases can be deeper than the call stack).
 * @throws {YamlError}
 */
function checkAliases(value: unknown): void {
  const references = new Map<object, number>();
  /** Collections in post-order: each after those it holds (but for one holding an ancestor). */
  const order: object[] = [];
  const stack: { node: object; children: unknown[]; next: number }[] = [];
  const reach = (node: unknown) => {
    if (typeof node !== "object" || node === null) return;
    const seen = references.get(node) ?? 0;
    references.set(node, seen + 1);
    if (seen === 0) stack.push({ node, children: Object.values(node), next: 0 });
  };
  reach(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.children.length) reach(top.children[top.next++]);
    else order.push(stack.pop()!.node);
  }
  /** How many copies of a collection's contents the aliases nested in it make (1: none). */
  const copies = new Map<object, number>();
  for (const node of order) {
    let most = 1;
    for (const child of Object.values(node)) {
      if (typeof child !== "object" || child === null) continue;
      const aliases = references.get(child)! - 1;
      // A collection holding its ancestor has no count yet: its alias is counted where it is.
      most = Math.max(most, Math.max(aliases, 1) * (copies.get(child) ?? 1));
    }
    copies.set(node, most);
    if ((references.get(node)! - 1) * most > MAX_ALIAS_COUNT) {
      throw new YamlError("Excessive alias count indicates a resource exhaustion attack");
    }
  }
}
