/** The interpreter's Python semantics, dispatch and errors, on small hand-written archives. */
import { describe as suite, expect, it } from 'vitest';
import {
  Interpreter,
  PyFloat,
  type TensorHost,
  type Value,
  isTuple,
  namedTupleFields,
  readTorchScript,
} from '../../../src/engine/torchscript';
import { FT, fakeHost, tensor, values } from './fake-host';
import { buildArchive, expectScriptError } from './helpers';

const HEAD = 'class M(Module):\n  __parameters__ = []\n  __buffers__ = []\n  training : bool\n';

/** Runs `body` (lines of forward after `def forward(self, ...)`) on the fake host. */
function run(
  body: string,
  args: Value<FT>[] = [],
  params = '',
  extra = '',
  host: TensorHost<FT> = fakeHost(),
): Value<FT> {
  const indented = body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const code = `${HEAD}  def forward(self: __torch__.M${params}):\n${indented}\n${extra}`;
  return new Interpreter(readTorchScript(buildArchive(code), 'model.pt'), host).forward(args);
}

const f = (x: number): PyFloat => new PyFloat(x);

suite('interpreter: Python values', () => {
  it('keeps ints and floats apart and divides as Python does', () => {
    expect(run('return (7 // 2, -7 // 2, 7 % -3, 7 / 2, 2 ** 10, 2 ** -1, 1 + 1.)')).toEqual([
      3,
      -4,
      -2,
      f(3.5),
      1024,
      f(0.5),
      f(2),
    ]);
    expect(
      run('return (torch.add(2, 3), torch.floordiv(7, 2), torch.div(1, 4), torch.neg(3), torch.pow(2, 3))'),
    ).toEqual([5, 3, f(0.25), -3, f(8)]);
    expect(
      run('return (int(2.7), int(-2.7), float(3), float("inf"), -inf, torch.floor(2.5), round(2.5))'),
    ).toEqual([2, -2, f(3), f(Infinity), f(-Infinity), 2, 2]);
    expectScriptError(() => run('return 1 // 0'), /model\.pt: code\/__torch__\.py:6:14: ZeroDivisionError/);
  });

  it('compares, tests identity and membership, and short-circuits and/or', () => {
    expect(
      run('return (1 < 2 < 3, 1 < 3 < 2, "a" < "b", [1, 2] == [1, 2], (1, 2) != (1, 3), None is None)'),
    ).toEqual([true, false, true, true, true, true]);
    expect(run('return (2 in [1, 2], "k" in {"k": 1}, "b" not in "abc", 0 or "x", 1 and 0, not [])')).toEqual(
      [true, true, false, 'x', 0, true],
    );
    expect(run('return torch.__contains__(["nearest", "area"], "area")')).toBe(true);
  });

  it('handles lists, tuples, dicts and strings', () => {
    const out = run(`
l = annotate(List[int], [])
for i in range(5):
  _0 = torch.append(l, torch.mul(i, i))
l2 = l[1:-1]
l3 = torch.slice(l, 2)
d = {"a": 1, "b": 2}
d["c"] = 3
_1, _2, = (l[-1], len(d))
s = torch.format("{} and {}", 1, "x")
t = [1, 2] + [3]
l[0] = 100
l += [7]
return (l, l2, l3, torch.keys(d), _1, _2, s, t, "ab" * 2, [0] * 3, len("héllo"), sorted([3, 1, 2]))`);
    expect(out).toEqual([
      [100, 1, 4, 9, 16, 7],
      [1, 4, 9],
      [4, 9, 16],
      ['a', 'b', 'c'],
      16,
      3,
      '1 and x',
      [1, 2, 3],
      'abab',
      [0, 0, 0],
      5,
      [1, 2, 3],
    ]);
    expect(isTuple(out)).toBe(true);
    expectScriptError(() => run('l = [1]\nreturn l[3]'), /:7:12: IndexError: index out of range/);
    expectScriptError(() => run('d = {"a": 1}\nreturn d["b"]'), /:7:12: KeyError: 'b'/);
    expectScriptError(() => run('a, b = [1, 2, 3]\nreturn a'), /:6:5: cannot unpack 3 values into 2 targets/);
  });

  it('runs if/elif/else, for with break/continue, while, conditional expressions and comprehensions', () => {
    const out = run(`
total = 0
for i in range(10):
  if i == 2:
    continue
  elif i >= 6:
    break
  else:
    total += i
n = 0
_0 = True
while _0:
  n0 = torch.add(n, 1)
  _0, n = torch.lt(n0, 5), n0
k = 0.5 if n == 5 else 1.
sq = [x * 2 for x in [1, 2, 3] if x != 2]
for a, b in [(1, 2), (3, 4)]:
  total = total + a * b
return (total, n, k, sq, [i for i in range(3)])`);
    expect(out).toEqual([13 + 14, 5, f(0.5), [2, 6], [0, 1, 2]]);
  });

  it('evaluates annotate, unchecked_cast, uninitialized and isinstance', () => {
    expect(
      run(`
x = annotate(float, 1)
y = unchecked_cast(int, 3)
z = uninitialized(Tensor)
return (x, y, isinstance(x, float), isinstance(y, int), isinstance(None, Optional[int]), isinstance([1], List[int]), isinstance((1, 2.), Tuple[int, float]))`),
    ).toEqual([f(1), 3, true, true, true, true, true]);
    expectScriptError(
      () => run('z = uninitialized(Tensor)\nif z:\n  pass\nreturn 1'),
      /:7:5: use of an uninitialized Tensor/,
    );
  });

  it('binds positional, keyword and default arguments and coerces float parameters', () => {
    const extra =
      '  def helper(self: __torch__.M, a: int, b: float=2., c: Optional[int]=None) -> float:\n    return (a, b, c)\n';
    expect(run('return (self).helper(1, c=3, )', [], '', extra)).toEqual([1, f(2), 3]);
    expect(run('return (self).helper(1, 4, )', [], '', extra)).toEqual([1, f(4), null]);
    expectScriptError(
      () => run('return (self).helper()', [], '', extra),
      /:6:12: M\.helper\(\) is missing its argument 'a'/,
    );
    expectScriptError(
      () => run('return (self).helper(1, d=2)', [], '', extra),
      /unexpected keyword argument 'd'/,
    );
    expectScriptError(() => run('return (self).nope(1)'), /:6:12: module __torch__\.M has no method 'nope'/);
  });

  it('calls free functions of the code by qualified name, and constructs named tuples', () => {
    const extra =
      'def twice(x: int) -> int:\n  return torch.mul(x, 2)\nclass Out(NamedTuple):\n  y : int\n  z : int\n';
    const out = run('_0 = __torch__.twice\nreturn __torch__.Out(_0(3), __torch__.twice(4))', [], '', extra);
    expect(out).toEqual([6, 8]);
    expect(namedTupleFields.get(out as readonly unknown[])).toEqual(['y', 'z']);
    expectScriptError(() => run('return __torch__.nothere(1)'), /unknown function __torch__\.nothere/);
  });

  it('raises the model exceptions and failed assertions as located errors', () => {
    expectScriptError(
      () => run('ops.prim.RaiseException("too big", "builtins.ValueError")\nreturn 1'),
      /^model\.pt: code\/__torch__\.py:6:5: the model raised ValueError: too big$/,
    );
    expectScriptError(
      () => run('raise builtins.RuntimeError("no")'),
      /:6:5: the model raised RuntimeError: no/,
    );
    expectScriptError(() => run('assert False, "need 2d"'), /:6:5: the model's assertion failed: need 2d/);
  });
});

suite('interpreter: tensors through the host', () => {
  it('sends tensor ops to the host with normalised names and keyword arguments', () => {
    const calls: [string, unknown[], Record<string, unknown>][] = [];
    const base = fakeHost();
    const host: TensorHost<FT> = {
      ...base,
      call(op, args, kwargs, at) {
        calls.push([op, args, kwargs]);
        return base.call(op, args, kwargs, at);
      },
    };
    const x = tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const out = run(
      `
a = torch.nn.functional.relu(x)
b = ops.aten.tanh(a)
c = x.sum(dim=-1, keepdim=True)
d = torch.fft.rfft(x, n=4)
e = torch.zeros([2], dtype=6)
f = torch.float64
return (torch.size(x, 1), x.size(), torch.dim(x), len(x), x.shape, torch.numel(x), c, f)`,
      [x],
      ',\n    x: Tensor',
      '',
      host,
    ) as Value<FT>[];
    expect(calls.map((c) => c[0])).toEqual([
      'aten::relu',
      'aten::tanh',
      'aten::sum',
      'aten::fft_rfft',
      'aten::zeros',
    ]);
    expect(calls[2][2]).toEqual({ dim: -1, keepdim: true });
    expect(calls[3][2]).toEqual({ n: 4 });
    expect(calls[4][2]).toEqual({ dtype: 6 });
    expect(out.slice(0, 6)).toEqual([3, [2, 3], 2, 2, [2, 3], 6]);
    expect(values(out[6] as FT).re).toEqual(Float64Array.of(6, 15));
    expect(out[7]).toMatchObject({ dtype: 'float64' });
  });

  it('locates the host errors for unsupported ops at the call', () => {
    const x = tensor([2], [1, 2]);
    const e = expectScriptError(() =>
      run('y = torch.add(x, 1)\nreturn torch.istft(y, 4)', [x], ', x: Tensor'),
    );
    expect(e.message).toBe('model.pt: code/__torch__.py:7:12: unsupported op aten::istft');
    expect(e.what).toBe('unsupported op aten::istft');
  });

  it('converts 0-d tensors with int(), float(), bool() and annotate(number, t) through the host', () => {
    const t = tensor([], [2.5]);
    expect(run('return (int(x), float(x), bool(x), annotate(number, x))', [t], ', x: Tensor')).toEqual([
      2,
      f(2.5),
      true,
      f(2.5),
    ]);
  });

  it('indexes and iterates tensors through select, slice and unbind', () => {
    const x = tensor([3, 2], [1, 2, 3, 4, 5, 6]);
    const out = run(
      'a = x[1]\nb = x[1:]\ns = 0.\nfor r in x:\n  s = s + float(torch.sum(r))\nreturn (a, b, s)',
      [x],
      ', x: Tensor',
    ) as Value<FT>[];
    expect(values(out[0] as FT).re).toEqual(Float64Array.of(3, 4));
    expect((out[1] as FT).shape).toEqual([2, 2]);
    expect(out[2]).toEqual(f(21));
  });
});
