import { ShapeError } from '../errors';
import { sameShape, shapeString, type HostTensor } from '../tensor';
import type { FnoConfig } from './config';

/** One parameter tensor the architecture needs: its state_dict name, shape and kind. */
export interface ExpectedTensor {
  name: string;
  shape: number[];
  complex: boolean;
}

/** The state_dict of an fno1d-scalar model, in creation order (as torch writes it). */
export function expectedTensors(c: FnoConfig): ExpectedTensor[] {
  const w = c.width;
  const list: ExpectedTensor[] = [
    { name: 'linear_p.weight', shape: [w, c.inp_dim_func], complex: false },
    { name: 'linear_p.bias', shape: [w], complex: false },
    { name: 'linear_scalar.weight', shape: [w, c.inp_dim_scalar], complex: false },
    { name: 'linear_scalar.bias', shape: [w], complex: false },
  ];
  for (let i = 0; i < c.layers; i++) {
    list.push({ name: `spect${i + 1}.weights1`, shape: [i === 0 ? 2 * w : w, w, c.modes], complex: true });
  }
  for (let i = 0; i < c.layers; i++) {
    list.push({ name: `lin${i}.weight`, shape: [w, i === 0 ? 2 * w : w, 1], complex: false });
    list.push({ name: `lin${i}.bias`, shape: [w], complex: false });
  }
  list.push(
    { name: 'linear_q.weight', shape: [c.hidden, w], complex: false },
    { name: 'linear_q.bias', shape: [c.hidden], complex: false },
    { name: 'output_layer.weight', shape: [c.out_dim_func, c.hidden], complex: false },
    { name: 'output_layer.bias', shape: [c.out_dim_func], complex: false },
  );
  return list;
}

/**
 * Check that every tensor the architecture needs is there with its shape and kind, and count the
 * parameters. Both backends call this, so a bad model fails the same way on either.
 */
export function checkTensors(
  config: FnoConfig,
  tensors: Map<string, HostTensor>,
): { real: number; complex: number } {
  let real = 0;
  let complex = 0;
  for (const e of expectedTensors(config)) {
    const t = tensors.get(e.name);
    if (!t) throw new ShapeError(`tensor '${e.name}' is missing`);
    if (!sameShape(t.shape, e.shape)) {
      throw new ShapeError(
        `tensor '${e.name}' has shape ${shapeString(t.shape)}, expected ${shapeString(e.shape)}`,
      );
    }
    if (e.complex !== (t.imag !== undefined)) {
      throw new ShapeError(`tensor '${e.name}' must be ${e.complex ? 'complex' : 'real'}`);
    }
    if (e.complex) complex += t.data.length;
    else real += t.data.length;
  }
  return { real, complex };
}
