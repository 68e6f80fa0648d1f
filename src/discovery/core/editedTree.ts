import type { Node, Parser, Tree } from 'web-tree-sitter';
import { editBetween, pointAt } from './parser';

/** Statements re-parsed on their own before the whole module is parsed again. */
const MAX_REPARSED_STATEMENTS = 4;

/** A statement of the module: its index among the root's children and, for one in a top-level class's body, among the body's named children. */
type StatementPath = readonly [top: number, member?: number];

interface ReparsedStatement {
  path: StatementPath;
  /** Its span in the current text, kept here: tree-sitter's edit does not say whether text typed at a node's end is in it. */
  start: number;
  end: number;
  tree?: Tree;
}

/**
 * The syntax tree of a module being edited. An edit inside one top-level statement, or inside one
 * statement of a top-level class's body, re-parses that statement alone: a method of a 5,000-line
 * test class costs what the method costs, where tree-sitter's incremental parse of the whole module
 * takes 20-40 ms. A walk reads the module's last whole tree, edited to the text as it is now (every
 * node outside the re-parsed statements is what a fresh parse gives), with each re-parsed statement
 * in place of its old node. An edit elsewhere, in a module whose last whole parse met an error, or
 * a statement that does not parse alone as one clean statement (an unclosed bracket or string may
 * swallow what follows) parses the whole module again from its last tree.
 */
export class EditedModuleTree {
  /** The text the whole tree reads its nodes' text from: always the module's current text. */
  private readonly source: { text: string };
  private whole: Tree;
  private readonly reparsed = new Map<string, ReparsedStatement>();
  private readonly replacements = new Map<number, Node>();

  constructor(
    private readonly parser: Parser,
    text: string,
  ) {
    this.source = { text };
    this.whole = this.parseWhole();
  }

  get rootNode(): Node {
    return this.whole.rootNode;
  }

  /** What a walk reads in place of `node`: its statement re-parsed, when it was. */
  replacement(node: Node): Node | undefined {
    return this.replacements.size ? this.replacements.get(node.id) : undefined;
  }

  update(text: string): void {
    if (text === this.source.text) return;
    const edit = editBetween(this.source.text, text);
    const delta = edit.newEndIndex - edit.oldEndIndex;
    const inside = (s: { start: number; end: number }) => s.start < edit.startIndex && edit.oldEndIndex <= s.end;
    let edited = [...this.reparsed.values()].find(inside);
    // A tree that recovered from an error says little about where statements end.
    if (!edited && !this.whole.rootNode.hasError) {
      const around = this.statementAround(edit.startIndex, edit.oldEndIndex);
      if (around) this.reparsed.set(around.path.join('.'), (edited = around));
    }
    let apart = edited !== undefined;
    for (const statement of this.reparsed.values()) {
      if (statement === edited) statement.end += delta;
      else if (statement.start >= edit.oldEndIndex) {
        statement.start += delta;
        statement.end += delta;
      } else if (statement.end > edit.startIndex) apart = false;
    }
    this.whole.edit(edit);
    this.source.text = text;
    if (!apart || this.reparsed.size > MAX_REPARSED_STATEMENTS || !this.reparseStatements()) this.reparseWhole();
  }

  delete(): void {
    this.forgetStatements();
    this.whole.delete();
  }

  private parseWhole(oldTree?: Tree): Tree {
    const source = this.source;
    const tree = this.parser.parse((index: number) => source.text.slice(index), oldTree);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  }

  private reparseWhole(): void {
    this.forgetStatements();
    const previous = this.whole;
    this.whole = this.parseWhole(previous);
    previous.delete();
  }

  private forgetStatements(): void {
    for (const statement of this.reparsed.values()) statement.tree?.delete();
    this.reparsed.clear();
    this.replacements.clear();
  }

  /** The statement whose span holds [start, end] past its first character, with its path into the whole tree. */
  private statementAround(start: number, end: number): ReparsedStatement | undefined {
    const root = this.whole.rootNode;
    const top = childAround(root, start, end, false);
    if (!top) return undefined;
    const cls = top.node.type === 'decorated_definition' ? top.node.childForFieldName('definition') : top.node;
    const body = cls?.type === 'class_definition' ? cls.childForFieldName('body') : null;
    const member = body ? childAround(body, start, end, true) : undefined;
    const { node } = member ?? top;
    // A class is re-parsed a method at a time, or with the module: tree-sitter's incremental parse
    // of the whole costs well under a fresh parse of a statement that makes most of it.
    if (!member && (body || node.endIndex - node.startIndex > this.source.text.length / 4)) return undefined;
    return { path: member ? [top.index, member.index] : [top.index], start: node.startIndex, end: node.endIndex };
  }

  /** Parses each edited statement alone; false when one does not parse as one clean statement. */
  private reparseStatements(): boolean {
    this.replacements.clear();
    for (const statement of this.reparsed.values()) {
      statement.tree?.delete();
      statement.tree = undefined;
      const node = this.nodeAt(statement.path);
      if (!node) return false;
      const whole = this.source.text;
      const { row, column } = pointAt(whole, statement.start);
      const indent = whole.slice(statement.start - column, statement.start);
      const member = statement.path.length === 2;
      if (!/^[ \t]*$/.test(indent) || (!member && indent !== '') || (member && row === 0)) return false;
      const text = whole.slice(statement.start, statement.end);
      // Positions in the statement's own tree are module positions: as many lines before it, and a
      // class header on the line above a method.
      statement.tree =
        this.parser.parse(member ? `${'\n'.repeat(row - 1)}class _:\n${indent}${text}` : '\n'.repeat(row) + text) ?? undefined;
      if (!statement.tree || statement.tree.rootNode.hasError) return false;
      const only = onlyStatement(statement.tree.rootNode);
      const parsed = member && only ? onlyStatement(only.childForFieldName('body')) : only;
      if (!parsed) return false;
      this.replacements.set(node.id, parsed);
    }
    return true;
  }

  private nodeAt([top, member]: StatementPath): Node | null {
    const node = this.whole.rootNode.child(top);
    if (member === undefined || !node) return node;
    const cls = node.type === 'decorated_definition' ? node.childForFieldName('definition') : node;
    return cls?.childForFieldName('body')?.namedChild(member) ?? null;
  }
}

/** The child of `parent` whose span holds [start, end] past its first character, and its index. */
function childAround(parent: Node, start: number, end: number, named: boolean): { node: Node; index: number } | undefined {
  const count = named ? parent.namedChildCount : parent.childCount;
  for (let index = 0; index < count; index++) {
    const node = named ? parent.namedChild(index) : parent.child(index);
    if (!node || node.startIndex >= start) return undefined;
    if (end <= node.endIndex) return node.type === 'comment' ? undefined : { node, index };
  }
  return undefined;
}

/** The one statement among `parent`'s named children (comments aside), if there is exactly one. */
function onlyStatement(parent: Node | null): Node | undefined {
  const statements = (parent?.namedChildren ?? []).filter((n) => n && n.type !== 'comment');
  return statements.length === 1 ? statements[0]! : undefined;
}
