import type { Node, Parser } from 'web-tree-sitter';
import { cellPosition, notebookModule, type CellSpan } from './notebook';
import { parsePython } from './parser';

/**
 * The top-level statements a module's rewards need, found with discovery's parser, so that a
 * preview runs the reward and not the script around it (`trainer.train()`, model loading).
 *
 * A statement is needed when it binds a name a needed statement reads, starting from the rewards'
 * own names. Binding is read generously, as a static slice must: an assignment to `x.a` or `x[k]`
 * and a statement that calls a method of `x` (`x.update(...)`, `nltk.download(...)`) bind `x`.
 * Always run: `from __future__` and star imports, changes of `sys.path` and `os.environ` (what the
 * imports read), docstrings. Never run: an `if __name__ == "__main__":` block.
 */

export interface StatementNote {
  /** 1-based line of the statement's start. */
  line: number;
  /** Its first line, shortened. */
  text: string;
  /** Not an import, `def` or `class`: it does something when run (`trainer.train()`). */
  acts: boolean;
}

export interface ModuleSlice {
  /** The module text with each statement that is not run replaced by `pass` (line numbers kept). */
  source: string;
  ran: StatementNote[];
  skipped: StatementNote[];
  /**
   * Nothing with an effect is skipped (only unused plain `def`s and a `__main__` block): importing
   * the file as it is runs the same code.
   */
  whole: boolean;
  /** A notebook's code cells in `source`. */
  cells?: CellSpan[];
}

interface Statement {
  node: Node;
  binds: Set<string>;
  uses: Set<string>;
  alwaysRun: boolean;
  neverRun: boolean;
  /** Skipping it changes nothing (a plain `def` nobody needs). */
  inert: boolean;
}

interface Scope {
  binds: Set<string>;
  uses: Set<string>;
  globals: Set<string>;
  /** Module level: an item or attribute assignment binds its base name. */
  module: boolean;
  /** Set when the statement changes `sys.path` or `os.environ`. */
  touchesImports?: boolean;
}

const NOTE_CHARS = 60;

/** The slice of `source` (a module's or a notebook's module text) that `names` need. */
export function sliceModule(parser: Parser, source: string, names: Iterable<string>): ModuleSlice {
  const tree = parsePython(parser, source);
  try {
    const statements = tree.rootNode.namedChildren.filter((n): n is Node => n !== null && n.type !== 'comment').map(describeStatement);
    const keep = neededStatements(statements, new Set(names));
    const ran: StatementNote[] = [];
    const skipped: StatementNote[] = [];
    let out = '';
    let at = 0;
    let whole = true;
    for (const statement of statements) {
      const { node } = statement;
      if (keep.has(statement)) {
        ran.push(note(node));
        continue;
      }
      skipped.push(note(node));
      if (!statement.inert && !statement.neverRun) whole = false;
      out += source.slice(at, node.startIndex) + 'pass' + node.text.replace(/[^\n]/g, '');
      at = node.endIndex;
    }
    return { source: out + source.slice(at), ran, skipped, whole };
  } finally {
    tree.delete();
  }
}

function neededStatements(statements: Statement[], names: Set<string>): Set<Statement> {
  const keep = new Set<Statement>();
  const needed = new Set<string>();
  const pending: string[] = [];
  const add = (statement: Statement) => {
    if (keep.has(statement)) return;
    keep.add(statement);
    for (const name of statement.uses) if (!needed.has(name)) pending.push(name);
  };
  for (const name of names) pending.push(name);
  for (const statement of statements) if (statement.alwaysRun) add(statement);
  while (pending.length) {
    const name = pending.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    for (const statement of statements) if (!statement.neverRun && statement.binds.has(name)) add(statement);
  }
  return keep;
}

function note(node: Node): StatementNote {
  const first = node.text.split('\n', 1)[0].trim();
  const acts =
    !/^(import_statement|import_from_statement|future_import_statement|function_definition|class_definition|decorated_definition)$/.test(
      node.type,
    );
  return {
    line: node.startPosition.row + 1,
    text: first.length > NOTE_CHARS ? `${first.slice(0, NOTE_CHARS - 1)}…` : first,
    acts,
  };
}

function describeStatement(node: Node): Statement {
  const scope: Scope = { binds: new Set(), uses: new Set(), globals: new Set(), module: true };
  visit(node, scope);
  const expression = node.type === 'expression_statement' && node.namedChildCount === 1 ? node.namedChild(0) : null;
  if (expression?.type === 'call') modifies(expression.childForFieldName('function'), scope);
  const star = node.type === 'import_from_statement' && node.namedChildren.some((c) => c?.type === 'wildcard_import');
  const docstring = expression?.type === 'string';
  return {
    node,
    binds: scope.binds,
    uses: scope.uses,
    alwaysRun: star || docstring || node.type === 'future_import_statement' || scope.touchesImports === true,
    neverRun: isMainGuard(node),
    inert: node.type === 'function_definition' || node.type === 'pass_statement',
  };
}

function isMainGuard(node: Node): boolean {
  if (node.type !== 'if_statement') return false;
  const condition = node.childForFieldName('condition')?.text.replace(/\s+/g, '').replace(/'/g, '"');
  return condition === '__name__=="__main__"' || condition === '"__main__"==__name__';
}

function children(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

function visitAll(nodes: (Node | null | undefined)[], scope: Scope): void {
  for (const node of nodes) if (node) visit(node, scope);
}

/** Records the names `node` reads (`uses`) and binds (`binds`) in `scope`. */
function visit(node: Node, scope: Scope): void {
  switch (node.type) {
    case 'identifier':
      scope.uses.add(node.text);
      return;
    case 'comment':
    case 'string':
      visitAll(
        children(node).filter((c) => c.type === 'interpolation'),
        scope,
      );
      return;
    case 'attribute':
      visit(node.childForFieldName('object')!, scope);
      return;
    case 'keyword_argument':
      visitAll([node.childForFieldName('value')], scope);
      return;
    case 'import_statement':
    case 'import_from_statement':
    case 'future_import_statement':
      for (const child of children(node)) {
        if (child.type === 'aliased_import') scope.binds.add(child.childForFieldName('alias')!.text);
        else if (child.type === 'dotted_name' && child !== node.childForFieldName('module_name')) {
          scope.binds.add(node.type === 'import_statement' ? child.text.split('.')[0] : child.text);
        }
      }
      return;
    case 'function_definition':
    case 'class_definition':
    case 'lambda':
      visitDefinition(node, scope);
      return;
    case 'decorated_definition':
      visitAll(children(node), scope);
      return;
    case 'list_comprehension':
    case 'set_comprehension':
    case 'dictionary_comprehension':
    case 'generator_expression':
      visitInner(children(node), scope, (inner) => {
        for (const clause of children(node).filter((c) => c.type === 'for_in_clause')) bind(clause.childForFieldName('left'), inner);
      });
      return;
    case 'for_in_clause':
      visitAll([node.childForFieldName('right')], scope);
      return;
    case 'assignment':
    case 'augmented_assignment':
      bind(node.childForFieldName('left'), scope);
      if (node.type === 'augmented_assignment') visit(node.childForFieldName('left')!, scope);
      visitAll([node.childForFieldName('type'), node.childForFieldName('right')], scope);
      return;
    case 'named_expression':
      bind(node.childForFieldName('name'), scope);
      visitAll([node.childForFieldName('value')], scope);
      return;
    case 'for_statement':
      bind(node.childForFieldName('left'), scope);
      visitAll([node.childForFieldName('right'), node.childForFieldName('body'), node.childForFieldName('alternative')], scope);
      return;
    case 'as_pattern':
      visitAll([children(node)[0]], scope);
      bind(node.childForFieldName('alias'), scope);
      return;
    case 'global_statement':
    case 'nonlocal_statement':
      for (const name of children(node)) scope.globals.add(name.text);
      return;
    default:
      visitAll(children(node), scope);
  }
}

/** A def, class or lambda: its name is bound here, its body's free names are read here. */
function visitDefinition(node: Node, scope: Scope): void {
  const name = node.childForFieldName('name');
  if (name) scope.binds.add(name.text);
  const parameters = node.childForFieldName('parameters') ?? node.childForFieldName('superclasses');
  const outer: Node[] = [];
  const params: Node[] = [];
  for (const param of parameters ? children(parameters) : []) {
    if (node.type === 'class_definition') outer.push(param);
    else if (param.type === 'identifier' || param.type === 'list_splat_pattern' || param.type === 'dictionary_splat_pattern')
      params.push(param);
    else {
      params.push(param.childForFieldName('name') ?? children(param)[0]);
      outer.push(...[param.childForFieldName('type'), param.childForFieldName('value')].filter((c): c is Node => c !== null));
    }
  }
  visitAll([...outer, node.childForFieldName('return_type')], scope);
  visitInner([node.childForFieldName('body')], scope, (inner) => {
    for (const param of params) bind(param, inner);
  });
}

/** Visits `nodes` in a scope of their own, whose free names become reads of `scope`. */
function visitInner(nodes: (Node | null)[], scope: Scope, bindLocals: (inner: Scope) => void): void {
  const inner: Scope = { binds: new Set(), uses: new Set(), globals: new Set(), module: false };
  bindLocals(inner);
  visitAll(nodes, inner);
  for (const name of inner.uses) if (!inner.binds.has(name) || inner.globals.has(name)) scope.uses.add(name);
  for (const name of inner.globals) scope.uses.add(name);
}

/** A store target: names bind; `x.a = …` and `x[k] = …` read `x` and, at module level, bind it. */
function bind(target: Node | null, scope: Scope): void {
  if (!target) return;
  switch (target.type) {
    case 'identifier':
      scope.binds.add(target.text);
      return;
    case 'attribute':
    case 'subscript':
      if (scope.module) modifies(target, scope);
      visit(target, scope);
      return;
    default:
      if (target.type.endsWith('pattern') || target.type.endsWith('pattern_list')) {
        for (const child of children(target)) bind(child, scope);
      } else {
        visit(target, scope);
      }
  }
}

/** `x.y.z(...)`, `x.y = …`, `x[k] = …`: binds the base name `x`; notes a change of sys.path or os.environ. */
function modifies(target: Node | null, scope: Scope): void {
  let node = target;
  const chain: string[] = [];
  if (node?.type !== 'attribute' && node?.type !== 'subscript') return;
  while (node && (node.type === 'attribute' || node.type === 'subscript')) {
    if (node.type === 'attribute') chain.unshift(node.childForFieldName('attribute')!.text);
    node = node.childForFieldName(node.type === 'attribute' ? 'object' : 'value');
  }
  if (node?.type !== 'identifier') return;
  scope.binds.add(node.text);
  const path = [node.text, ...chain].join('.');
  if (path.startsWith('sys.path') || path.startsWith('os.environ')) scope.touchesImports = true;
}

/**
 * The slice each reward file needs, by file: the attributes of `rewards` defined there. A notebook
 * is its code cells' module text and is never `whole` (Python cannot import an .ipynb). A file that
 * cannot be read or parsed is left out: importing it reports why.
 */
export function sliceRewardModules(
  parser: Parser,
  rewards: { file: string; attr: string }[],
  readText: (file: string) => string,
): Record<string, ModuleSlice> {
  const attrs = new Map<string, Set<string>>();
  for (const { file, attr } of rewards) attrs.set(file, (attrs.get(file) ?? new Set()).add(attr));
  const slices: Record<string, ModuleSlice> = {};
  for (const [file, names] of attrs) {
    try {
      const text = readText(file);
      if (!file.toLowerCase().endsWith('.ipynb')) {
        slices[file] = sliceModule(parser, text, names);
        continue;
      }
      const module = notebookModule(text);
      if ('error' in module) continue;
      slices[file] = { ...sliceModule(parser, module.source, names), whole: false, cells: module.cells };
    } catch {}
  }
  return slices;
}

/** Where a 1-based line of a slice's source is: in a notebook, its cell (0-based) and 1-based line there. */
export function slicePosition(slice: ModuleSlice | undefined, line: number): { cell?: number; line: number } {
  const position = slice?.cells && cellPosition(slice.cells, line - 1);
  return position ? { cell: position.cell, line: position.line + 1 } : { line };
}

/** The statements a slice skipped, the ones that do something first (`trainer.train()` before an unused import), placed. */
export function skippedByWeight(slice: ModuleSlice): (StatementNote & { cell?: number })[] {
  return [...slice.skipped.filter((s) => s.acts), ...slice.skipped.filter((s) => !s.acts)].map((s) => ({
    ...s,
    ...slicePosition(slice, s.line),
  }));
}
