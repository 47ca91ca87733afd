/**
 * A TorchScript archive as a graph program: `forward`'s signature from the code, and a run that
 * interprets the code with every tensor op on the given host.
 */
import type { GraphProgram } from '../graph/program';
import type { GTensor } from '../graph/tensor';
import type { TorchScriptArchive } from './archive';
import { describe } from './describe';
import type { TensorHost } from './host';
import { Interpreter } from './interpreter';
import type { Value } from './values';

export function torchScriptProgram(
  archive: TorchScriptArchive,
  origin: GraphProgram['origin'] = archive.kind,
): GraphProgram<TensorHost<GTensor>> {
  const d = describe(archive);
  if (!d.forward) throw new Error(`${archive.file}: the root module ${d.rootType} has no forward method`);
  const signature = d.forward.params.map((p) => ({ name: p.name, type: p.type }));
  // One interpreter per host: it converts the archive's parameters once and keeps them.
  const interpreters = new WeakMap<TensorHost<GTensor>, Interpreter<GTensor>>();
  return {
    origin,
    signature,
    run(host, args) {
      let it = interpreters.get(host);
      if (!it) {
        it = new Interpreter(archive, host);
        interpreters.set(host, it);
      }
      return it.forward(args as Value<GTensor>[]);
    },
  };
}
