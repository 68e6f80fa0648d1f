import type { Binding, ClassInfo, Expr, FunctionInfo, ModuleSummary } from './pythonModule';

/** Access to other modules of the workspace, parsed on demand. */
export interface ModuleHost {
  summaryOf(file: string): ModuleSummary | undefined;
  /** The file of `module` imported from `fromFile` (`level` leading dots), if it is in the workspace. */
  resolveModule(fromFile: string, module: string, level: number): string | undefined;
  /** `pkg/name.py` or `pkg/name/__init__.py` next to a package's `__init__.py`. */
  resolveSubmodule(packageFile: string, name: string): string | undefined;
}

/** What an expression evaluates to, as far as static reading can tell. */
export type Value =
  | { kind: 'function'; fn: FunctionInfo; file: string; boundPositional: number; boundKeywords: string[]; alias?: string }
  | { kind: 'class'; cls: ClassInfo; file: string }
  | { kind: 'instance'; cls: ClassInfo; file: string }
  | { kind: 'module'; file: string }
  | { kind: 'factory-result'; factory: FunctionInfo; file: string; inner: Value }
  | { kind: 'partial'; target: Value }
  | { kind: 'sequence'; items: Expr[]; scope: Scope }
  | { kind: 'string'; value: string }
  | { kind: 'external'; text: string }
  | { kind: 'unknown' };

export interface Scope {
  file: string;
  fn?: FunctionInfo;
}

const MAX_DEPTH = 24;

const BUILTINS = new Set(['len', 'sum', 'min', 'max', 'float', 'int', 'list', 'print', 'str', 'dict', 'tuple', 'sorted']);

export class RewardResolver {
  constructor(private readonly host: ModuleHost) {}

  evaluate(expr: Expr, scope: Scope, depth = 0): Value {
    if (depth > MAX_DEPTH) return { kind: 'unknown' };
    switch (expr.type) {
      case 'string':
        return { kind: 'string', value: expr.value };
      case 'sequence':
        return { kind: 'sequence', items: expr.items, scope };
      case 'lambda':
        return { kind: 'function', fn: expr.fn, file: scope.file, boundPositional: 0, boundKeywords: [] };
      case 'name':
        return this.lookup(expr.name, scope, depth + 1);
      case 'attribute':
        return this.attribute(this.evaluate(expr.object, scope, depth + 1), expr.attr, depth + 1, exprText(expr));
      case 'call':
        return this.call(expr, scope, depth + 1);
      default:
        return { kind: 'unknown' };
    }
  }

  /** Every entry of a `reward_funcs=` value, lists flattened (`[a, *others]` is not followed). */
  entries(expr: Expr, scope: Scope, depth = 0): { expr: Expr; value: Value }[] {
    const value = this.evaluate(expr, scope);
    if (value.kind === 'sequence' && depth < MAX_DEPTH) {
      return value.items.flatMap((item) => this.entries(item, value.scope, depth + 1));
    }
    return [{ expr, value }];
  }

  lookupInModule(file: string, name: string, depth = 0): Value {
    const summary = this.host.summaryOf(file);
    if (!summary) return { kind: 'unknown' };
    const binding = summary.bindings.get(name);
    if (binding) return this.fromBinding(binding, { file }, name, depth + 1);
    for (const star of summary.starImports) {
      const target = this.host.resolveModule(file, star.module, star.level);
      if (target && target !== file && depth < MAX_DEPTH) {
        const value = this.lookupInModule(target, name, depth + 1);
        if (value.kind !== 'unknown') return value;
      }
    }
    if (/(^|[\\/])__init__\.py$/.test(file)) {
      const sub = this.host.resolveSubmodule(file, name);
      if (sub) return { kind: 'module', file: sub };
    }
    return { kind: 'unknown' };
  }

  private lookup(name: string, scope: Scope, depth: number): Value {
    for (let fn = scope.fn; fn; fn = fn.parent) {
      const binding = fn.locals.get(name);
      if (binding) return this.fromBinding(binding, { file: scope.file, fn }, name, depth);
      const param = fn.params.find((p) => p.name === name);
      if (param) return { kind: 'unknown' };
    }
    const value = this.lookupInModule(scope.file, name, depth);
    if (value.kind !== 'unknown') return value;
    return BUILTINS.has(name) ? { kind: 'external', text: `builtins.${name}` } : { kind: 'unknown' };
  }

  private fromBinding(binding: Binding, scope: Scope, name: string, depth: number): Value {
    switch (binding.type) {
      case 'function':
        return { kind: 'function', fn: binding.fn, file: scope.file, boundPositional: 0, boundKeywords: [] };
      case 'class':
        return { kind: 'class', cls: binding.cls, file: scope.file };
      case 'import-module': {
        const file = this.host.resolveModule(scope.file, binding.module, binding.level);
        return file ? { kind: 'module', file } : { kind: 'external', text: binding.module };
      }
      case 'import-name': {
        const file = this.host.resolveModule(scope.file, binding.module, binding.level);
        if (!file) return { kind: 'external', text: `${binding.module}.${binding.name}` };
        const value = this.lookupInModule(file, binding.name, depth + 1);
        if (value.kind !== 'unknown') return value;
        const sub = this.host.resolveSubmodule(file, binding.name);
        return sub ? { kind: 'module', file: sub } : { kind: 'unknown' };
      }
      case 'value': {
        const value = this.evaluate(binding.expr, scope, depth + 1);
        if (value.kind === 'function' && value.fn.isLambda && !value.alias) return { ...value, alias: name };
        return value;
      }
    }
  }

  private attribute(object: Value, attr: string, depth: number, text: string): Value {
    switch (object.kind) {
      case 'module':
        return this.lookupInModule(object.file, attr, depth);
      case 'external':
        return { kind: 'external', text };
      case 'instance': {
        const method = this.findMethod(object.cls, object.file, attr, depth);
        return method ? { kind: 'function', fn: method.fn, file: method.file, boundPositional: 1, boundKeywords: [] } : { kind: 'unknown' };
      }
      default:
        return { kind: 'unknown' };
    }
  }

  private call(expr: Extract<Expr, { type: 'call' }>, scope: Scope, depth: number): Value {
    const callee = this.evaluate(expr.callee, scope, depth);
    if (isPartialCallee(callee, expr.callee) && expr.args.length > 0) {
      const target = this.evaluate(expr.args[0], scope, depth);
      if (target.kind === 'function') {
        return {
          kind: 'partial',
          target: {
            ...target,
            boundPositional: target.boundPositional + expr.args.length - 1,
            boundKeywords: [...target.boundKeywords, ...expr.kwargs.keys()],
          },
        };
      }
      return { kind: 'partial', target };
    }
    if (callee.kind === 'class') return { kind: 'instance', cls: callee.cls, file: callee.file };
    if (callee.kind === 'function' && !callee.fn.isLambda) {
      for (const ret of callee.fn.returns) {
        if (!ret.expr) continue;
        const inner = this.evaluate(ret.expr, { file: callee.file, fn: callee.fn }, depth);
        if (isCallableValue(inner)) return { kind: 'factory-result', factory: callee.fn, file: callee.file, inner };
      }
      return { kind: 'unknown' };
    }
    if (callee.kind === 'external') return { kind: 'external', text: `${callee.text}(…)` };
    return { kind: 'unknown' };
  }

  /** A method defined on the class or on a base class found in the workspace. */
  findMethod(cls: ClassInfo, file: string, name: string, depth = 0): { fn: FunctionInfo; file: string } | undefined {
    const own = cls.methods.get(name);
    if (own) return { fn: own, file };
    if (depth > MAX_DEPTH) return undefined;
    for (const base of cls.bases) {
      const value = this.evaluate(base, { file }, depth + 1);
      if (value.kind === 'class') {
        const found = this.findMethod(value.cls, value.file, name, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }
}

function isCallableValue(value: Value): boolean {
  return value.kind === 'function' || value.kind === 'instance' || value.kind === 'partial' || value.kind === 'factory-result';
}

function isPartialCallee(callee: Value, expr: Expr): boolean {
  if (callee.kind === 'external') return /(^|\.)partial$/.test(callee.text) && callee.text.startsWith('functools');
  return expr.type === 'attribute' && expr.attr === 'partial' && exprText(expr.object) === 'functools';
}

export function exprText(expr: Expr): string {
  switch (expr.type) {
    case 'name':
      return expr.name;
    case 'attribute':
      return `${exprText(expr.object)}.${expr.attr}`;
    case 'call':
      return `${exprText(expr.callee)}(…)`;
    case 'string':
      return expr.value;
    case 'lambda':
      return '<lambda>';
    case 'subscript':
      return `${exprText(expr.object)}[${expr.index.type === 'string' ? JSON.stringify(expr.index.value) : exprText(expr.index)}]`;
    default:
      return '…';
  }
}
