import { type ParsedArgs } from '../args';
import { axisNames, graphInfoLines, graphInputs, graphModelOf, parseOutputIndex } from '../graph-model';
import type { TorchScriptModel } from '../../engine/models/open-model';

/**
 * `jacscope info` for a TorchScript archive: traced or scripted, the forward signature, which
 * argument is p, the ops and parameter counts; with inputs given, the shapes one sample runs with.
 */
export async function graphInfo(
  m: TorchScriptModel,
  args: ParsedArgs,
  out: (line: string) => void,
): Promise<void> {
  const wrt = args.options.get('wrt');
  const model = graphModelOf(m);
  const p = model.wrtArg(wrt);
  const haveInputs = ['x', 'p'].some((k) => args.options.has(k)) || args.lists.has('input');
  let seen: string[] = [];
  if (haveInputs) {
    const inputs = graphInputs(model, args, p);
    const first = new Map(
      [...inputs].map(([k, v]) => {
        const per = v.data.length / v.shape[0];
        return [k, { shape: [1, ...v.shape.slice(1)], data: v.data.subarray(0, per) }];
      }),
    );
    const r = model.forward(first, { wrt: p, output: parseOutputIndex(args.options.get('output')) });
    const P = inputs.get(p)!.shape[1];
    const B = inputs.get(p)!.shape[0];
    seen = [
      `inputs: ${[...inputs].map(([k, v]) => `${k} [${v.shape.join(',')}]`).join(', ')}`,
      `y: [${[B, ...r.yShape.slice(1)].join(',')}] (${axisNames(r.yShape.length, false).join(',')}); J: [${[B, ...r.yShape.slice(1), P].join(',')}] (${axisNames(r.yShape.length, true).join(',')})`,
    ];
  }
  if (args.flags.has('json')) {
    out(
      JSON.stringify(
        {
          file: m.file,
          format: 'torchscript',
          description: m.description,
          wrt: p,
          notes: m.archive.notes,
          seen,
        },
        null,
        2,
      ),
    );
    return;
  }
  for (const line of graphInfoLines(m, wrt)) out(line);
  for (const line of seen) out(line);
}
