/** The lexer and parser on TorchScript's serialized code subset, and their located errors. */
import { describe as suite, expect, it } from 'vitest';
import type { Expr, Stmt } from '../../../src/engine/torchscript/ast';
import { buildCodeTable } from '../../../src/engine/torchscript/classes';
import { tokenize } from '../../../src/engine/torchscript/lexer';
import { parseCode } from '../../../src/engine/torchscript';
import { typeToString } from '../../../src/engine/torchscript/types';
import { expectScriptError } from './helpers';

const PATH = 'code/__torch__/m.py';
const parse = (text: string): Stmt[] => parseCode(text, PATH, 'model.pt').body;
const expr = (text: string): Expr => {
  const [s] = parse(`x = ${text}\n`);
  if (s.kind !== 'assign') throw new Error('not an assignment');
  return s.value;
};

const MODULE = `import __torch__.torch.nn.modules.linear
from typing import List, Tuple
class FNO(Module):
  __parameters__ = ["w", ]
  __buffers__ = []
  w : Tensor
  training : bool
  linear_p : __torch__.torch.nn.modules.linear.Linear
  in_features : Final[int] = 3
  eps : Final[float] = 1.0000000000000001e-05
  __annotations__["0"] = __torch__.torch.nn.modules.linear.___torch_mangle_3.Linear
  def forward(self: __torch__.FNO,
    x: Tensor,
    p: Optional[Tensor]=None,
    dims: List[int]=[1, 2],
    pair: Tuple[Tensor, Tensor]=None) -> Tuple[Tensor, Tensor]:
    _0, _1, = torch.unbind(x, 1)
    linear_p = self.linear_p
    y = (linear_p).forward(x, )
    _2 = getattr(self, "0")
    z = torch.zeros([2, 3], dtype=6, layout=None, device=torch.device("cpu"), pin_memory=False)
    n = ops.prim.NumToTensor(torch.size(x, 0))
    c = CONSTANTS.c0
    k = 0.5 if torch.eq(int(n), 2) else 1.
    k += -1e-05
    if torch.__isnot__(p, None):
      p0 = unchecked_cast(Tensor, p)
    elif not torch.eq(k, 1):
      pass
    else:
      raise builtins.ValueError("bad")
    for i in range(3):
      continue
    while False:
      break
    l = annotate(List[Tensor], [])
    d = {"a": 1, 'b': inf}
    s = [i * 2 for i in range(3) if i > 0]
    assert isinstance(k, float), "msg"
    return (y, z)
def helper(x: Tensor) -> Tensor:
  return torch.neg(x)
`;

suite('TorchScript parser', () => {
  it('parses a module class with annotated attributes, a typed forward and a free function', () => {
    const file = parseCode(MODULE, 'code/__torch__.py', 'model.pt');
    expect(file.module).toBe('__torch__');
    const table = buildCodeTable([file], 'model.pt');
    const cls = table.classes.get('__torch__.FNO')!;
    expect(cls.kind).toBe('module');
    expect(cls.parameters).toEqual(['w']);
    expect(cls.buffers).toEqual([]);
    expect(typeToString(cls.attributes.get('linear_p')!)).toBe('__torch__.torch.nn.modules.linear.Linear');
    expect(typeToString(cls.attributes.get('0')!)).toBe(
      '__torch__.torch.nn.modules.linear.___torch_mangle_3.Linear',
    );
    expect(typeToString(cls.attributes.get('in_features')!)).toBe('Final[int]');
    expect(cls.constants.get('eps')).toMatchObject({ kind: 'float', value: 1.0000000000000001e-5 });
    const fwd = cls.methods.get('forward')!;
    expect(fwd.params.map((p) => [p.name, typeToString(p.annotation)])).toEqual([
      ['self', '__torch__.FNO'],
      ['x', 'Tensor'],
      ['p', 'Optional[Tensor]'],
      ['dims', 'List[int]'],
      ['pair', 'Tuple[Tensor, Tensor]'],
    ]);
    expect(typeToString(fwd.returns)).toBe('Tuple[Tensor, Tensor]');
    expect(fwd.body.map((s) => s.kind)).toEqual([
      ...['assign', 'assign', 'assign', 'assign', 'assign', 'assign', 'assign', 'assign', 'augassign'],
      ...['if', 'for', 'while', 'assign', 'assign', 'assign', 'assert', 'return'],
    ]);
    expect(table.functions.has('__torch__.helper')).toBe(true);
  });

  it('reads numbers, strings and constants as Python does', () => {
    expect(expr('1e-05')).toMatchObject({ kind: 'float', value: 1e-5 });
    expect(expr('0.')).toMatchObject({ kind: 'float', value: 0 });
    expect(expr('.5')).toMatchObject({ kind: 'float', value: 0.5 });
    expect(expr('9223372036854775807')).toMatchObject({ kind: 'int' });
    expect(expr('0x1F')).toMatchObject({ kind: 'int', value: 31 });
    expect(expr('"a\\"b\\n\\t\\\\ \\x41\\u00e9"')).toMatchObject({ kind: 'str', value: 'a"b\n\t\\ A\u00e9' });
    expect(expr("'it''s'")).toMatchObject({ kind: 'str', value: 'its' });
    expect(expr("'x\"y\\n'")).toMatchObject({ kind: 'str', value: 'x"y\n' });
    expect(expr('None')).toMatchObject({ kind: 'const', value: null });
    expect(expr('True')).toMatchObject({ kind: 'const', value: true });
  });

  it('keeps Python precedence and associativity', () => {
    const e = expr('-a ** 2 // 3 + b % c * d');
    expect(e).toMatchObject({
      kind: 'binary',
      op: '+',
      left: {
        kind: 'binary',
        op: '//',
        left: { kind: 'unary', op: '-', operand: { kind: 'binary', op: '**' } },
      },
      right: { kind: 'binary', op: '*', left: { kind: 'binary', op: '%' } },
    });
    expect(expr('2 ** 3 ** 2')).toMatchObject({ op: '**', right: { op: '**' } });
    expect(expr('a < b <= c is not None')).toMatchObject({ kind: 'compare', ops: ['<', '<=', 'is not'] });
    expect(expr('not a in b')).toMatchObject({
      kind: 'unary',
      op: 'not',
      operand: { kind: 'compare', ops: ['in'] },
    });
    expect(expr('a or b and c')).toMatchObject({
      kind: 'bool',
      op: 'or',
      values: [{}, { kind: 'bool', op: 'and' }],
    });
    expect(expr('x[:, 1:-1:2]')).toMatchObject({
      kind: 'subscript',
      index: {
        kind: 'tuple',
        items: [
          { kind: 'slice', lower: null },
          { kind: 'slice', step: { kind: 'int' } },
        ],
      },
    });
    expect(expr('(1,)')).toMatchObject({ kind: 'tuple', items: [{ kind: 'int' }] });
    expect(expr('()')).toMatchObject({ kind: 'tuple', items: [] });
    expect(expr('f(a, b=1, )')).toMatchObject({ kind: 'call', args: [{}], kwargs: [{ name: 'b' }] });
  });

  it('joins lines inside brackets and tracks indentation', () => {
    const body = parse(
      'def f(a,\n      b):\n  if a:\n    return b\n  else:\n\n    # comment\n    return a\n',
    );
    expect(body[0]).toMatchObject({ kind: 'def', params: [{ name: 'a' }, { name: 'b' }] });
    const tokens = tokenize('a = [1,\n  2]\n', PATH, 'model.pt', 100).map((t) => t.type);
    expect(tokens).toEqual(['name', 'op', 'op', 'int', 'op', 'int', 'op', 'newline', 'eof']);
  });

  it('names the archive, the code file, line and column in every error', () => {
    const e = expectScriptError(() => parse('def f(x):\n  return x +\n'));
    expect(e.message).toMatch(
      /^model\.pt: code\/__torch__\/m\.py:2:13: expected an expression but found the end of the line$/,
    );
    expect(e.loc).toEqual({ file: PATH, line: 2, col: 13 });
    expectScriptError(() => parse('x = "abc\n'), /m\.py:1:5: a string runs past the end of its line/);
    expectScriptError(() => parse('def f():\n    a = 1\n  b = 2\n'), /m\.py:3:3: indentation does not match/);
    expectScriptError(() => parse('x = (1, 2\n'), /the file ends inside brackets/);
    expectScriptError(() => parse('x = 1 $ 2\n'), /m\.py:1:7: unexpected character "\$"/);
    expectScriptError(() => parse('try:\n  pass\n'), /m\.py:1:1: unsupported construct 'try'/);
    expectScriptError(() => parse('f(x) = 1\n'), /m\.py:1:1: cannot assign to a function call/);
    expectScriptError(() => parse('x = lambda: 1\n'), /unsupported construct 'lambda'/);
    expectScriptError(() => parse('x = 1j\n'), /complex number literals are not supported/);
    expectScriptError(() => parse('x = f(*a)\n'), /\*args/);
    expectScriptError(() => parse('@dec\ndef f():\n  pass\n'), /decorator/);
    expectScriptError(() => parse('x = {1, 2}\n'), /set literal/);
  });

  it('refuses unexpected statements at the top level and in class bodies', () => {
    const table = (text: string): unknown => buildCodeTable([parseCode(text, PATH, 'model.pt')], 'model.pt');
    expectScriptError(() => table('x.y = 1\n'), /m\.py:1:1: unexpected assign statement at the top level/);
    expectScriptError(
      () => table('class A(Module):\n  for i in x:\n    pass\n'),
      /m\.py:2:3: unexpected for statement/,
    );
    expectScriptError(
      () => table('class A(Module):\n  __parameters__ = [1]\n'),
      /__parameters__ is not a list of strings/,
    );
    expectScriptError(
      () => table('def f():\n  pass\ndef f():\n  pass\n'),
      /function __torch__\.m\.f is defined twice/,
    );
  });
});
