import type { Node } from 'web-tree-sitter';
import type { Position, Range } from '../../shared/vocabulary';
import { emptySummary, mergeSummary, type FunctionPart, type PartCache } from './summaryParts';

/**
 * A plain-data summary of one Python module: what the reward resolver and the contract rules
 * need, extracted in one walk so the tree-sitter tree can be freed right away.
 */

export type Expr =
  | { type: 'name'; name: string; range: Range }
  | { type: 'attribute'; object: Expr; attr: string; range: Range }
  | { type: 'call'; callee: Expr; args: Expr[]; kwargs: Map<string, Expr>; range: Range }
  | { type: 'lambda'; fn: FunctionInfo; range: Range }
  | { type: 'sequence'; items: Expr[]; range: Range }
  | { type: 'string'; value: string; range: Range }
  /** A dict literal: its string keys; `spreads` are its `**other` items; `open` when a key is not a string literal. */
  | { type: 'dict'; entries: { key: string; value: Expr }[]; spreads: Expr[]; open: boolean; range: Range }
  | { type: 'subscript'; object: Expr; index: Expr; range: Range }
  | { type: 'other'; range: Range };

export type Binding =
  | { type: 'function'; fn: FunctionInfo }
  | { type: 'class'; cls: ClassInfo }
  /** `import a.b as c` binds c to a.b; plain `import a.b` binds a to a. `level` counts leading dots. */
  | { type: 'import-module'; module: string; level: number }
  | { type: 'import-name'; module: string; level: number; name: string }
  | { type: 'value'; expr: Expr };

export type ParamKind = 'positional-only' | 'positional-or-keyword' | 'var-positional' | 'keyword-only' | 'var-keyword';

export interface Param {
  name: string;
  kind: ParamKind;
  hasDefault: boolean;
  range: Range;
  nameRange: Range;
  /** Where the body reads or assigns the parameter (not `x.name` attributes or `f(name=…)` keywords), for renames. */
  uses: Range[];
}

/** What a returned expression evidently is; `unknown` whenever the code does not say. */
export type ValueKind = 'number' | 'none' | 'str' | 'dict' | 'list-of-numbers' | 'list-of-str' | 'iterable' | 'unknown';

export interface ReturnInfo {
  range: Range;
  kind: ValueKind;
  expr?: Expr;
  /** Number of items when a list or tuple literal is returned (`return [1.0]`). */
  literalLength?: number;
}

export interface FunctionInfo {
  name: string;
  isLambda: boolean;
  isAsync: boolean;
  nameRange: Range;
  params: Param[];
  paramsRange: Range;
  /** Where `, **kwargs` goes: after the last parameter, or inside empty parentheses. */
  kwargsInsertAt: Position;
  returnAnnotation?: { text: string; range: Range };
  returns: ReturnInfo[];
  hasYield: boolean;
  /** Functions, classes, imports and simple assignments made inside the body. */
  locals: Map<string, Binding>;
  /** Uses of each completion as a string (`len(c)`, `c.strip()`, `re.search(p, c)`). */
  completionStringOps: StringOp[];
  /** Uses of each completion as a message list (`c[0]["content"]`). */
  completionMessageOps: Range[];
  /** The first None put among the rewards (`[None] * n`, `… else None for c in completions]`, `.append(None)`). */
  noneReward?: Range;
  /** First read of the `*args` tuple in the body. */
  varPositionalUse?: Range;
  /** Enclosing function, for factories and local name lookup. */
  parent?: FunctionInfo;
  /** Set for methods. */
  className?: string;
  /** Its body only documents, passes or raises NotImplementedError: an abstract method or a stub. */
  isStub: boolean;
}

export interface StringOp {
  range: Range;
  /** True when the same operation on a message list raises (`c.strip()`, `re.search(p, c)`, `c + "…"`). */
  raisesOnList: boolean;
}

export interface ClassInfo {
  name: string;
  nameRange: Range;
  bases: Expr[];
  methods: Map<string, FunctionInfo>;
  /** The class body gives its instances a `__name__` (`__name__ = "…"`, `self.__name__ = …`). */
  setsName: boolean;
}

/** A call that passes `reward_funcs=` (GRPOTrainer, a subclass, or a wrapper). */
export interface TrainerCall {
  range: Range;
  /** The callee as written: `GRPOTrainer`, `trl.RLOOTrainer`, `AsyncGRPOTrainer`, a wrapper. */
  trainer: string;
  rewardFuncs: Expr;
  /** Its `train_dataset=` argument. */
  trainDataset?: Expr;
  scope?: FunctionInfo;
}

export interface ModuleSummary {
  bindings: Map<string, Binding>;
  functions: FunctionInfo[];
  classes: ClassInfo[];
  trainerCalls: TrainerCall[];
  starImports: { module: string; level: number }[];
  /** Dataset columns seen next to a `prompt` key in dict literals. */
  columnsSeen: string[];
  /** A dict literal whose `prompt` is a list of role/content messages. */
  conversationalEvidence?: Range;
  /** Names called with positional arguments inside the module's functions (`accuracy(content, sol)`): helpers. */
  helperCalls: Set<string>;
  /** Every `name = …` in source order, for values a name had at a given line (`dataset = dataset.map(f)`). */
  assignments: Assignment[];
  /** Names given a `__name__` by assignment (`reward.__name__ = "accuracy"`). */
  namedByAssignment: Set<string>;
}

export interface Assignment {
  name: string;
  expr: Expr;
  line: number;
  /** The function the assignment is in; undefined at module level. */
  scope?: FunctionInfo;
}

const STRING_METHODS = new Set([
  'strip',
  'lstrip',
  'rstrip',
  'split',
  'rsplit',
  'splitlines',
  'lower',
  'upper',
  'casefold',
  'count',
  'find',
  'rfind',
  'index',
  'startswith',
  'endswith',
  'replace',
  'encode',
  'isdigit',
  'isnumeric',
  'isalpha',
  'format',
  'partition',
  'rpartition',
  'removeprefix',
  'removesuffix',
  'title',
  'join',
]);
/** String methods that return a string (`completion.strip()`): a function returning one returns text. */
const TEXT_METHODS = new Set([
  'strip',
  'lstrip',
  'rstrip',
  'lower',
  'upper',
  'casefold',
  'replace',
  'title',
  'removeprefix',
  'removesuffix',
]);
/** `list` has these too, so on a message list they return a wrong number instead of raising. */
const LIST_METHODS = new Set(['count', 'index']);
const REGEX_FUNCTIONS = new Set(['search', 'match', 'fullmatch', 'findall', 'finditer', 'sub', 'subn', 'split']);
/** Nodes whose children are statements: always walked, since definitions and imports hide there. */
const STATEMENT_CONTAINERS = new Set([
  'module',
  'block',
  'expression_statement',
  'if_statement',
  'elif_clause',
  'else_clause',
  'for_statement',
  'while_statement',
  'try_statement',
  'except_clause',
  'except_group_clause',
  'finally_clause',
  'with_statement',
  'match_statement',
  'case_clause',
]);
/**
 * Inside an expression, only these can matter: a `reward_funcs=` argument, a dict with a `prompt`
 * key, `x.append(…)` (a list being built), `yield`. Expressions without them are not walked.
 */
const MAY_MATTER = /reward_funcs|prompt|\.append|yield/;
const NUMBER_FUNCTIONS = new Set(['len', 'float', 'int', 'sum', 'round', 'abs', 'bool']);
const MATH_MODULES = new Set(['math']);
const SEQUENCE_FUNCTIONS = new Set(['list', 'tuple', 'sorted', 'reversed', 'map', 'filter', 'zip']);

export function rangeOf(node: Node): Range {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}

function stringValue(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  if (node.namedChildren.some((c) => c?.type === 'interpolation')) return undefined;
  return node.namedChildren
    .filter((c): c is Node => c?.type === 'string_content')
    .map((c) => c.text)
    .join('');
}

function literalLength(node: Node): number | undefined {
  if (node.type !== 'list' && node.type !== 'tuple') return undefined;
  const items = named(node).filter((n) => n.type !== 'comment');
  return items.some((n) => n.type === 'list_splat' || n.type === 'parenthesized_list_splat') ? undefined : items.length;
}

function named(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null);
}

/**
 * One walk of a module's syntax tree into its summary: the bindings, functions and classes, trainer
 * calls with their reward_funcs, and what each function does with completions. State shared by the
 * steps of the walk (the scope being visited, what local names were assigned) lives on the instance.
 */
class ModuleSummarizer {
  private summary: ModuleSummary = emptySummary();
  private columns = new Set<string>();
  /** The function whose body is being visited; undefined at module level. */
  private currentScope: FunctionInfo | undefined;
  private readonly assignedKinds = new WeakMap<FunctionInfo, Map<string, ValueKind[]>>();

  constructor(
    private readonly tree: SyntaxTree,
    private readonly functionParts?: PartCache<FunctionPart>,
  ) {}

  private readonly replaced = (node: Node): Node => this.tree.replacement?.(node) ?? node;

  private readonly bind = (scope: FunctionInfo | undefined, name: string, binding: Binding) => {
    (scope ? scope.locals : this.summary.bindings).set(name, binding);
  };

  private readonly toExpr = (node: Node): Expr => {
    const range = rangeOf(node);
    switch (node.type) {
      case 'identifier':
        return { type: 'name', name: node.text, range };
      case 'attribute': {
        const object = node.childForFieldName('object');
        const attr = node.childForFieldName('attribute');
        if (object && attr) return { type: 'attribute', object: this.toExpr(object), attr: attr.text, range };
        break;
      }
      case 'call': {
        const callee = node.childForFieldName('function');
        const argList = node.childForFieldName('arguments');
        if (!callee) break;
        const args: Expr[] = [];
        const kwargs = new Map<string, Expr>();
        for (const arg of argList ? named(argList) : []) {
          if (arg.type === 'keyword_argument') {
            const name = arg.childForFieldName('name');
            const value = arg.childForFieldName('value');
            if (name) kwargs.set(name.text, value ? this.toExpr(value) : { type: 'other', range: rangeOf(arg) });
          } else if (arg.type !== 'comment') {
            args.push(this.toExpr(arg));
          }
        }
        return { type: 'call', callee: this.toExpr(callee), args, kwargs, range };
      }
      case 'dictionary': {
        const entries: { key: string; value: Expr }[] = [];
        const spreads: Expr[] = [];
        let open = false;
        for (const item of named(node)) {
          if (item.type === 'dictionary_splat') {
            const inner = named(item)[0];
            spreads.push(inner ? this.toExpr(inner) : { type: 'other', range: rangeOf(item) });
          } else if (item.type === 'pair') {
            const key = item.childForFieldName('key');
            const value = item.childForFieldName('value');
            const keyText = key ? stringValue(key) : undefined;
            if (keyText === undefined || !value) open = true;
            else entries.push({ key: keyText, value: this.toExpr(value) });
          } else if (item.type !== 'comment') {
            open = true;
          }
        }
        return { type: 'dict', entries, spreads, open, range };
      }
      case 'subscript': {
        const object = node.childForFieldName('value');
        const index = node.childForFieldName('subscript');
        if (object && index) return { type: 'subscript', object: this.toExpr(object), index: this.toExpr(index), range };
        break;
      }
      case 'lambda':
        return { type: 'lambda', fn: this.lambdaInfo(node), range };
      case 'list':
      case 'tuple':
        return {
          type: 'sequence',
          items: named(node)
            .filter((n) => n.type !== 'comment')
            .map(this.toExpr),
          range,
        };
      case 'parenthesized_expression': {
        const inner = named(node).find((n) => n.type !== 'comment');
        if (inner) return this.toExpr(inner);
        break;
      }
      case 'string': {
        const value = stringValue(node);
        if (value !== undefined) return { type: 'string', value, range };
        break;
      }
    }
    return { type: 'other', range };
  };

  private readonly parseParams = (paramsNode: Node | null, fn: FunctionInfo) => {
    if (!paramsNode) return;
    const children = named(paramsNode).filter((n) => n.type !== 'comment');
    const hasSlash = children.some((c) => c.type === 'positional_separator');
    let mode: ParamKind = hasSlash ? 'positional-only' : 'positional-or-keyword';
    for (const child of children) {
      if (child.type === 'positional_separator') {
        mode = 'positional-or-keyword';
        continue;
      }
      if (child.type === 'keyword_separator') {
        mode = 'keyword-only';
        continue;
      }
      let core = child;
      const hasDefault = child.type === 'default_parameter' || child.type === 'typed_default_parameter';
      if (child.type === 'typed_parameter') {
        const inner = named(child)[0];
        if (inner) core = inner;
      } else if (hasDefault) {
        const nameNode = child.childForFieldName('name');
        if (nameNode) core = nameNode;
      }
      let kind: ParamKind = mode;
      let nameNode: Node | null = core;
      if (core.type === 'list_splat_pattern') {
        kind = 'var-positional';
        mode = 'keyword-only';
        nameNode = named(core)[0] ?? null;
      } else if (core.type === 'dictionary_splat_pattern') {
        kind = 'var-keyword';
        nameNode = named(core)[0] ?? null;
      }
      if (!nameNode || nameNode.type !== 'identifier') continue;
      fn.params.push({ name: nameNode.text, kind, hasDefault, range: rangeOf(child), nameRange: rangeOf(nameNode), uses: [] });
    }
    const last = children[children.length - 1];
    const lastToken = paramsNode.lastChild; // ')' for def, last param for lambda
    if (paramsNode.type === 'parameters') {
      const close = lastToken && lastToken.type === ')' ? lastToken : null;
      fn.kwargsInsertAt = last ? rangeOf(last).end : close ? rangeOf(close).start : rangeOf(paramsNode).end;
    } else {
      fn.kwargsInsertAt = last ? rangeOf(last).end : rangeOf(paramsNode).end;
    }
  };

  private readonly newFunction = (node: Node, name: string, nameRange: Range, parent?: FunctionInfo): FunctionInfo => ({
    name,
    isLambda: node.type === 'lambda',
    isAsync: node.firstChild?.type === 'async',
    nameRange,
    params: [],
    paramsRange: rangeOf(node.childForFieldName('parameters') ?? node),
    kwargsInsertAt: rangeOf(node).start,
    returns: [],
    hasYield: false,
    locals: new Map(),
    completionStringOps: [],
    completionMessageOps: [],
    parent,
    isStub: false,
  });

  /** Walks a function's body with the function as the current scope. */
  private readonly visitBody = (body: Node, fn: FunctionInfo) => {
    const saved = this.currentScope;
    this.currentScope = fn;
    this.visit(body);
    this.currentScope = saved;
    this.analyzeCompletionUse(body, fn);
    this.noteNoneReward(body, fn);
  };

  private readonly noteNoneReward = (body: Node, fn: FunctionInfo) => {
    if (fn.returns.length > 0 && fn.returns.every((r) => r.kind === 'none' || r.kind === 'number')) return;
    if (!body.text.includes('None')) return;
    for (const none of body.descendantsOfType('none')) {
      let node = none!;
      while (node.parent && (node.parent.type === 'conditional_expression' || node.parent.type === 'parenthesized_expression'))
        node = node.parent;
      const parent = node.parent;
      const isElement =
        parent?.type === 'list' ||
        (parent?.type === 'list_comprehension' && parent.childForFieldName('body')?.id === node.id) ||
        (parent?.type === 'argument_list' && /\.append$/.test(parent.parent?.childForFieldName('function')?.text ?? ''));
      if (isElement) {
        fn.noneReward = rangeOf(none!);
        return;
      }
    }
  };

  private readonly lambdaInfo = (node: Node): FunctionInfo => {
    const fn = this.newFunction(node, '<lambda>', rangeOf(node.child(0) ?? node), this.currentScope);
    const params = node.childForFieldName('parameters');
    this.parseParams(params, fn);
    if (!params) {
      // `lambda: 0`: insert after the keyword
      fn.kwargsInsertAt = rangeOf(node.child(0) ?? node).end;
      fn.paramsRange = rangeOf(node.child(0) ?? node);
    }
    const body = node.childForFieldName('body');
    if (body) {
      this.visitBody(body, fn);
      fn.returns.push({
        range: rangeOf(body),
        kind: this.valueKind(body, fn),
        expr: this.toExpr(body),
        literalLength: literalLength(body),
      });
    }
    return fn;
  };

  private readonly functionInfo = (node: Node): FunctionInfo => {
    const nameNode = node.childForFieldName('name');
    const fn = this.newFunction(node, nameNode?.text ?? '', rangeOf(nameNode ?? node), this.currentScope);
    this.parseParams(node.childForFieldName('parameters'), fn);
    const returnType = node.childForFieldName('return_type');
    if (returnType) fn.returnAnnotation = { text: returnType.text, range: rangeOf(returnType) };
    const body = node.childForFieldName('body');
    if (body) {
      this.visitBody(body, fn);
      fn.isStub = isStubBody(body);
      this.noteHelperCalls(body);
      this.noteParamUses(body, fn);
    }
    return fn;
  };

  /** Local variable kinds, from assignments seen in the body, for `return rewards`. */

  private readonly valueKind = (node: Node, fn: FunctionInfo | undefined): ValueKind => {
    switch (node.type) {
      case 'integer':
      case 'float':
      case 'true':
      case 'false':
      case 'comparison_operator':
        return 'number';
      case 'none':
        return 'none';
      case 'string':
      case 'concatenated_string':
        return 'str';
      case 'dictionary':
      case 'dictionary_comprehension':
        return 'dict';
      case 'not_operator':
        return 'number';
      case 'parenthesized_expression': {
        const inner = named(node)[0];
        return inner ? this.valueKind(inner, fn) : 'unknown';
      }
      case 'unary_operator': {
        const operand = node.childForFieldName('argument');
        return operand && this.valueKind(operand, fn) === 'number' ? 'number' : 'unknown';
      }
      case 'binary_operator': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (!left || !right) return 'unknown';
        const l = this.valueKind(left, fn);
        const r = this.valueKind(right, fn);
        if (l === 'number' && r === 'number') return 'number';
        if ((l === 'list-of-numbers' || l === 'iterable') && r === 'number') return l;
        return 'unknown';
      }
      case 'conditional_expression': {
        const branches = named(node).filter((n) => n.type !== 'comment');
        const a = branches[0] ? this.valueKind(branches[0], fn) : 'unknown';
        const b = branches[2] ? this.valueKind(branches[2], fn) : 'unknown';
        return a === b ? a : 'unknown';
      }
      case 'list':
      case 'tuple': {
        const items = named(node).filter((n) => n.type !== 'comment');
        if (items.length === 0) return 'iterable';
        const kinds = items.map((n) => this.valueKind(n, fn));
        if (kinds.every((k) => k === 'str')) return 'list-of-str';
        if (kinds.every((k) => k === 'number' || k === 'none')) return 'list-of-numbers';
        return 'iterable';
      }
      case 'list_comprehension':
      case 'generator_expression': {
        const body = node.childForFieldName('body');
        const k = body ? this.valueKind(body, fn) : 'unknown';
        if (k === 'str') return 'list-of-str';
        if (k === 'number' || k === 'none') return 'list-of-numbers';
        return 'iterable';
      }
      case 'call': {
        const callee = node.childForFieldName('function');
        if (!callee) return 'unknown';
        if (callee.type === 'identifier') {
          if (NUMBER_FUNCTIONS.has(callee.text)) return 'number';
          if (SEQUENCE_FUNCTIONS.has(callee.text)) return 'iterable';
          if (callee.text === 'str') return 'str';
          if (callee.text === 'dict') return 'dict';
        }
        if (callee.type === 'attribute') {
          const object = callee.childForFieldName('object');
          if (object && MATH_MODULES.has(object.text)) return 'number';
          if (TEXT_METHODS.has(callee.childForFieldName('attribute')?.text ?? '')) return 'str';
        }
        return 'unknown';
      }
      case 'identifier': {
        const kinds = fn && this.assignedKinds.get(fn)?.get(node.text);
        if (!kinds || kinds.length === 0) return 'unknown';
        return kinds.every((k) => k === kinds[0]) ? kinds[0] : 'unknown';
      }
    }
    return 'unknown';
  };

  private readonly noteAssignedKind = (fn: FunctionInfo, name: string, kind: ValueKind) => {
    let map = this.assignedKinds.get(fn);
    if (!map) this.assignedKinds.set(fn, (map = new Map()));
    const list = map.get(name) ?? [];
    list.push(kind);
    map.set(name, list);
  };

  /** Which names in the body stand for one completion, and how they are used. */
  private readonly analyzeCompletionUse = (body: Node, fn: FunctionInfo) => {
    const completionsParam = fn.params.find((p) => p.name === 'completions' && p.kind !== 'var-keyword');
    if (!completionsParam) return;
    const elementNames = new Set<string>();
    const bindElement = (left: Node | null, right: Node | null) => {
      if (!left || !right) return;
      if (right.type === 'identifier' && right.text === 'completions' && left.type === 'identifier') {
        elementNames.add(left.text);
        return;
      }
      if (right.type !== 'call') return;
      const callee = right.childForFieldName('function')?.text;
      const args = named(right.childForFieldName('arguments') ?? right).filter((n) => n.type !== 'comment');
      const targets = left.type === 'pattern_list' || left.type === 'tuple_pattern' ? named(left) : [];
      if (callee === 'zip') {
        args.forEach((arg, i) => {
          if (arg.type === 'identifier' && arg.text === 'completions' && targets[i]?.type === 'identifier') {
            elementNames.add(targets[i].text);
          }
        });
      } else if (callee === 'enumerate' && args[0]?.text === 'completions' && targets[1]?.type === 'identifier') {
        elementNames.add(targets[1].text);
      }
    };
    const loops = body.descendantsOfType(['for_statement', 'for_in_clause']);
    for (const loop of loops) {
      if (loop) bindElement(loop.childForFieldName('left'), loop.childForFieldName('right'));
    }
    const isElement = (node: Node | null): boolean => {
      if (!node) return false;
      if (node.type === 'identifier') return elementNames.has(node.text);
      if (node.type === 'subscript') return node.childForFieldName('value')?.text === 'completions';
      return false;
    };
    for (const node of body.descendantsOfType(['call', 'subscript', 'binary_operator'])) {
      if (!node) continue;
      if (node.type === 'subscript') {
        const value = node.childForFieldName('value');
        const index = node.childForFieldName('subscript');
        if (value?.type === 'subscript' && isElement(value.childForFieldName('value')) && index?.type === 'string') {
          fn.completionMessageOps.push(rangeOf(node));
        }
        continue;
      }
      if (node.type === 'binary_operator') {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        const op = node.childForFieldName('operator')?.text;
        if (op === '+' && ((isElement(left) && right?.type === 'string') || (isElement(right) && left?.type === 'string'))) {
          fn.completionStringOps.push({ range: rangeOf(node), raisesOnList: true });
        }
        continue;
      }
      const callee = node.childForFieldName('function');
      const args = named(node.childForFieldName('arguments') ?? node);
      if (!callee) continue;
      if (callee.type === 'identifier' && callee.text === 'len' && isElement(args[0] ?? null)) {
        fn.completionStringOps.push({ range: rangeOf(node), raisesOnList: false });
      } else if (callee.type === 'attribute') {
        const object = callee.childForFieldName('object');
        const method = callee.childForFieldName('attribute')?.text ?? '';
        if (isElement(object) && STRING_METHODS.has(method)) {
          fn.completionStringOps.push({ range: rangeOf(node), raisesOnList: !LIST_METHODS.has(method) });
        } else if (REGEX_FUNCTIONS.has(method) && args.some((a) => isElement(a))) {
          fn.completionStringOps.push({ range: rangeOf(node), raisesOnList: true });
        } else if (object?.text === 'emoji' && args.some((a) => isElement(a))) {
          fn.completionStringOps.push({ range: rangeOf(node), raisesOnList: false });
        }
      }
    }
  };

  /** Where the body names each parameter (`x.name` attributes and `f(name=…)` keywords aside), and its first read of `*args`. */
  private readonly noteParamUses = (body: Node, fn: FunctionInfo) => {
    const byName = new Map(fn.params.map((p) => [p.name, p]));
    for (const node of body.descendantsOfType('identifier')) {
      const param = node && byName.get(node.text);
      if (!param) continue;
      if (param.kind === 'var-positional') fn.varPositionalUse ??= rangeOf(node);
      const parent = node.parent;
      if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === node.id) continue;
      if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) continue;
      param.uses.push(rangeOf(node));
    }
  };

  private readonly noteHelperCalls = (body: Node) => {
    for (const call of body.descendantsOfType('call')) {
      const callee = call?.childForFieldName('function');
      if (callee?.type !== 'identifier') continue;
      const args = named(call!.childForFieldName('arguments') ?? call!);
      if (args.some((a) => a.type !== 'keyword_argument' && a.type !== 'comment' && a.type !== 'dictionary_splat'))
        this.summary.helperCalls.add(callee.text);
    }
  };

  private readonly noteDictionary = (node: Node) => {
    let hasPrompt = false;
    let promptIsMessages = false;
    const keys: string[] = [];
    for (const pair of named(node)) {
      if (pair.type !== 'pair') continue;
      const key = pair.childForFieldName('key');
      const keyText = key ? stringValue(key) : undefined;
      if (keyText === undefined) continue;
      keys.push(keyText);
      if (keyText === 'prompt') {
        hasPrompt = true;
        const value = pair.childForFieldName('value');
        if (value?.type === 'list') {
          promptIsMessages = named(value).some(
            (item) =>
              item.type === 'dictionary' &&
              named(item).some((p) => p.type === 'pair' && stringValue(p.childForFieldName('key')!) === 'role'),
          );
        }
      }
    }
    if (!hasPrompt) return;
    for (const key of keys) if (key !== 'prompt') this.columns.add(key);
    if (promptIsMessages && !this.summary.conversationalEvidence) this.summary.conversationalEvidence = rangeOf(node);
  };

  private readonly visitImport = (node: Node) => {
    if (node.type === 'import_statement') {
      for (const child of named(node)) {
        if (child.type === 'dotted_name') {
          const first = child.text.split('.')[0];
          this.bind(this.currentScope, first, { type: 'import-module', module: first, level: 0 });
        } else if (child.type === 'aliased_import') {
          const name = child.childForFieldName('name')?.text;
          const alias = child.childForFieldName('alias')?.text;
          if (name && alias) this.bind(this.currentScope, alias, { type: 'import-module', module: name, level: 0 });
        }
      }
      return;
    }
    const moduleNode = node.childForFieldName('module_name');
    if (!moduleNode) return;
    let module = moduleNode.text;
    let level = 0;
    if (moduleNode.type === 'relative_import') {
      const prefix = named(moduleNode).find((c) => c.type === 'import_prefix');
      level = prefix ? prefix.text.length : 0;
      module = named(moduleNode).find((c) => c.type === 'dotted_name')?.text ?? '';
    }
    if (named(node).some((c) => c.type === 'wildcard_import')) {
      this.summary.starImports.push({ module, level });
      return;
    }
    for (const child of node.childrenForFieldName('name')) {
      if (!child) continue;
      if (child.type === 'dotted_name') {
        this.bind(this.currentScope, child.text, { type: 'import-name', module, level, name: child.text });
      } else if (child.type === 'aliased_import') {
        const name = child.childForFieldName('name')?.text;
        const alias = child.childForFieldName('alias')?.text;
        if (name && alias) this.bind(this.currentScope, alias, { type: 'import-name', module, level, name });
      }
    }
  };

  /** A `def` or `class` (decorated or not); `owner` is set for the methods of a class. */
  private readonly visitDefinition = (node: Node, owner?: ClassInfo) => {
    const definition = node.type === 'decorated_definition' ? node.childForFieldName('definition') : node;
    if (definition?.type === 'function_definition') {
      const fn =
        this.functionParts && !this.currentScope ? this.cachedFunction(definition, this.functionParts) : this.functionInfo(definition);
      fn.className = owner?.name;
      if (owner) owner.methods.set(fn.name, fn);
      else this.bind(this.currentScope, fn.name, { type: 'function', fn });
      this.summary.functions.push(fn);
    } else if (definition?.type === 'class_definition') {
      this.visitClass(definition);
    }
  };

  /** A top-level function or method: last walk's when its text is unchanged; its body's effects on the module's summary either way. */
  private readonly cachedFunction = (node: Node, parts: PartCache<FunctionPart>): FunctionInfo => {
    const { fn, effects } = parts.get(`${node.startPosition.column}\n${node.text}`, node.startPosition.row, () => {
      const [summary, columns] = [this.summary, this.columns];
      this.summary = emptySummary();
      this.columns = new Set();
      try {
        const part = { fn: this.functionInfo(node), effects: this.summary };
        part.effects.columnsSeen = [...this.columns];
        return part;
      } finally {
        [this.summary, this.columns] = [summary, columns];
      }
    });
    mergeSummary(this.summary, effects);
    for (const column of effects.columnsSeen) this.columns.add(column);
    return fn;
  };

  private readonly visitClass = (node: Node) => {
    const nameNode = node.childForFieldName('name');
    const superclasses = node.childForFieldName('superclasses');
    const cls: ClassInfo = {
      name: nameNode?.text ?? '',
      nameRange: rangeOf(nameNode ?? node),
      bases: superclasses
        ? named(superclasses)
            .filter((n) => n.type !== 'keyword_argument')
            .map(this.toExpr)
        : [],
      methods: new Map(),
      setsName: /\b__name__\s*=(?!=)/.test(node.childForFieldName('body')?.text ?? ''),
    };
    this.bind(this.currentScope, cls.name, { type: 'class', cls });
    this.summary.classes.push(cls);
    const body = node.childForFieldName('body');
    for (const member of body ? named(body) : []) {
      const stmt = this.replaced(member);
      if (stmt.type === 'function_definition' || stmt.type === 'decorated_definition') this.visitDefinition(stmt, cls);
      else this.visit(stmt);
    }
  };

  private readonly visit = (visited: Node): void => {
    const node = this.replaced(visited);
    switch (node.type) {
      case 'function_definition':
      case 'class_definition':
      case 'decorated_definition':
        this.visitDefinition(node);
        return;
      case 'lambda':
        // Lambdas not bound to a name or passed as reward_funcs are of no interest.
        return;
      case 'import_statement':
      case 'import_from_statement':
        this.visitImport(node);
        return;
      case 'assignment': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left?.type === 'identifier' && right) {
          const expr = this.toExpr(right);
          this.bind(this.currentScope, left.text, { type: 'value', expr });
          this.summary.assignments.push({ name: left.text, expr, line: node.startPosition.row, scope: this.currentScope });
          if (this.currentScope) this.noteAssignedKind(this.currentScope, left.text, this.valueKind(right, this.currentScope));
        }
        if (left?.type === 'attribute' && left.childForFieldName('attribute')?.text === '__name__') {
          this.summary.namedByAssignment.add(left.childForFieldName('object')?.text ?? '');
        }
        if (right) this.visit(right);
        return;
      }
      case 'augmented_assignment': {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (this.currentScope && left?.type === 'identifier' && right) {
          const kind = this.valueKind(right, this.currentScope);
          this.noteAssignedKind(this.currentScope, left.text, kind === 'number' ? 'number' : 'unknown');
        }
        if (right) this.visit(right);
        return;
      }
      case 'return_statement': {
        const value = named(node).find((n) => n.type !== 'comment');
        if (this.currentScope) {
          this.currentScope.returns.push({
            range: rangeOf(node),
            kind: value ? this.valueKind(value, this.currentScope) : 'none',
            expr: value ? this.toExpr(value) : undefined,
            literalLength: value ? literalLength(value) : undefined,
          });
        }
        if (value) this.visit(value);
        return;
      }
      case 'yield':
        if (this.currentScope) this.currentScope.hasYield = true;
        break;
      case 'call': {
        const text = node.text;
        if (!MAY_MATTER.test(text)) return;
        if (text.includes('reward_funcs')) {
          const argList = node.childForFieldName('arguments');
          const keyword = (name: string) =>
            (argList ? named(argList) : [])
              .find((arg) => arg.type === 'keyword_argument' && arg.childForFieldName('name')?.text === name)
              ?.childForFieldName('value');
          const rewardFuncs = keyword('reward_funcs');
          const trainDataset = keyword('train_dataset');
          if (rewardFuncs) {
            this.summary.trainerCalls.push({
              range: rangeOf(node),
              trainer: node.childForFieldName('function')?.text ?? '',
              rewardFuncs: this.toExpr(rewardFuncs),
              ...(trainDataset ? { trainDataset: this.toExpr(trainDataset) } : {}),
              scope: this.currentScope,
            });
          }
        }
        // `rewards.append(x)` makes `rewards` a list.
        const callee = node.childForFieldName('function');
        if (this.currentScope && callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'append') {
          const object = callee.childForFieldName('object');
          if (object?.type === 'identifier') this.noteAssignedKind(this.currentScope, object.text, 'iterable');
        }
        break;
      }
      case 'dictionary':
        this.noteDictionary(node);
        break;
    }
    if (!STATEMENT_CONTAINERS.has(node.type) && !MAY_MATTER.test(node.text)) return;
    for (const child of named(node)) this.visit(child);
  };

  run(): ModuleSummary {
    this.visit(this.tree.rootNode);
    this.summary.columnsSeen = [...this.columns];
    return this.summary;
  }
}

/** A module's syntax tree; an edited module's tree gives some statements re-parsed in place of their nodes. */
export interface SyntaxTree {
  readonly rootNode: Node;
  replacement?(node: Node): Node | undefined;
}

/** `functionParts`: the module's top-level functions and methods from its previous summary, reused where unchanged. */
export function summarizeModule(tree: SyntaxTree, functionParts?: PartCache<FunctionPart>): ModuleSummary {
  const summary = new ModuleSummarizer(tree, functionParts).run();
  functionParts?.finish();
  return summary;
}

/** A body of only a docstring, `pass`, `...` and `raise NotImplementedError`. */
function isStubBody(body: Node): boolean {
  return named(body).every((stmt) => {
    if (stmt.type === 'comment' || stmt.type === 'pass_statement') return true;
    if (stmt.type === 'expression_statement') return named(stmt).every((n) => n.type === 'string' || n.type === 'ellipsis');
    return stmt.type === 'raise_statement' && /NotImplementedError/.test(stmt.text);
  });
}
