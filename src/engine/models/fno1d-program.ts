/**
 * The state-dict front-end for `fno1d-scalar`: bare weights (recognised from their names and
 * shapes) become the same kind of program a TorchScript archive is — the code `torch.jit.trace`
 * would have written for the model, over a module holding the weights — so one engine runs both
 * and no model is wired by hand.
 */
import type { GraphProgram } from '../graph/program';
import type { GTensor } from '../graph/tensor';
import type { HostTensor } from '../tensor';
import { TsObject, type ArchiveValue } from '../torchscript/archive-values';
import type { TorchScriptArchive } from '../torchscript/archive';
import { buildCodeTable } from '../torchscript/classes';
import type { TensorHost } from '../torchscript/host';
import { parseCode } from '../torchscript/parser';
import { torchScriptProgram } from '../torchscript/program';
import type { FnoConfig } from './config';

const CLASS = '__torch__.jacscope.Fno1dScalar';

/** The activation as the traced code calls it. */
const ACT_CALL: Record<FnoConfig['activation'], (x: string) => string> = {
  tanh: (x) => `torch.tanh(${x})`,
  gelu: (x) => `torch.gelu(${x})`,
  relu: (x) => `torch.relu(${x})`,
  silu: (x) => `torch.silu(${x})`,
};

/** Attribute name of a state-dict key (`spect1.weights1` → `spect1_weights1`). */
function attr(key: string): string {
  return key.replace(/\./g, '_');
}

/** The forward pass of fno1d-scalar in TorchScript's serialized code (see docs/design.md). */
export function fno1dCode(c: FnoConfig): string {
  const act = ACT_CALL[c.activation];
  const w = (k: string) => `self.${attr(k)}`;
  const lines = [
    `class Fno1dScalar(Module):`,
    `  __parameters__ = []`,
    `  __buffers__ = []`,
    `  training : bool`,
    `  def forward(self: ${CLASS},`,
    `    x: Tensor,`,
    `    p: Tensor) -> Tensor:`,
    `    T = torch.size(x, 1)`,
    `    B = torch.size(x, 0)`,
    `    a = torch.permute(torch.linear(x, ${w('linear_p.weight')}, ${w('linear_p.bias')}), [0, 2, 1])`,
    `    s = torch.linear(p, ${w('linear_scalar.weight')}, ${w('linear_scalar.bias')})`,
    `    s1 = torch.permute(torch.repeat(torch.unsqueeze(s, 1), [1, T, 1]), [0, 2, 1])`,
    `    h0 = torch.cat([a, s1], 1)`,
  ];
  for (let i = 0; i < c.layers; i++) {
    const h = `h${i}`;
    const cin = i === 0 ? 2 * c.width : c.width;
    lines.push(
      `    x_ft${i} = torch.fft_rfft(${h})`,
      `    out_ft${i} = torch.zeros([B, ${c.width}, torch.add(torch.floordiv(T, 2), 1)], dtype=9)`,
      `    mix${i} = torch.einsum("bix,iox->box", [torch.slice(x_ft${i}, 2, 0, ${c.modes}), ${w(`spect${i + 1}.weights1`)}])`,
      `    _${i} = torch.copy_(torch.slice(out_ft${i}, 2, 0, ${c.modes}), mix${i})`,
      `    u${i} = torch.fft_irfft(out_ft${i}, T)`,
      `    v${i} = torch._convolution(${h}, ${w(`lin${i}.weight`)}, ${w(`lin${i}.bias`)}, [1], [0], [1], False, [0], 1, False, False, True, True)`,
      `    h${i + 1} = ${act(`torch.add(u${i}, v${i})`)}`,
    );
    void cin;
  }
  lines.push(
    `    z = ${act(`torch.linear(torch.permute(h${c.layers}, [0, 2, 1]), ${w('linear_q.weight')}, ${w('linear_q.bias')})`)}`,
    `    return torch.linear(z, ${w('output_layer.weight')}, ${w('output_layer.bias')})`,
    ``,
  );
  return lines.join('\n');
}

/** fno1d-scalar weights (already checked against the config) as a graph program. */
export function fno1dProgram(
  config: FnoConfig,
  tensors: ReadonlyMap<string, HostTensor>,
  file = 'fno1d-scalar',
): GraphProgram<TensorHost<GTensor>> {
  const path = 'code/__torch__/jacscope.py';
  const code = [parseCode(fno1dCode(config), path, file)];
  const table = buildCodeTable(code, file);
  const attrs = new Map<string, ArchiveValue>([['training', false]]);
  for (const [k, t] of tensors) attrs.set(attr(k), t);
  const archive: TorchScriptArchive = {
    file,
    root: new TsObject(CLASS, attrs),
    constants: [],
    code,
    classes: table.classes,
    functions: table.functions,
    kind: 'traced',
    kindReason: 'built from the weights by jacscope',
    version: null,
    notes: [],
  };
  return torchScriptProgram(archive, 'state-dict');
}
