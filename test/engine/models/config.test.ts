import { describe, expect, it } from 'vitest';
import { maxModes } from '../../../src/engine/dft/truncated-dft';
import { LoadError, ShapeError } from '../../../src/engine/errors';
import {
  modesProblem,
  parseConfigJson,
  parseMetadataConfig,
  type FnoConfig,
} from '../../../src/engine/models/config';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import { randomTensors } from '../random-model';

describe('modesProblem: the one check of modes against T', () => {
  it('accepts up to T//2+1 modes, for even and odd T', () => {
    for (const T of [2, 3, 4, 5, 16, 17, 601]) {
      expect(maxModes(T)).toBe(Math.floor(T / 2) + 1);
      expect(modesProblem(maxModes(T), T)).toBeNull();
      expect(modesProblem(1, T)).toBeNull();
    }
  });

  it('says what T the model needs, naming the model when asked', () => {
    expect(modesProblem(16, 29)).toBe(
      'x has T = 29 time steps, but the model keeps 16 modes, more than T//2+1 = 15: it needs T ≥ 30',
    );
    expect(modesProblem(16, 29, 'model.pt')).toMatch(/but model\.pt keeps 16 modes/);
    expect(modesProblem(1, 1)).toBe('x has T = 1 time steps; the model needs at least 2');
  });

  it('is what the model refuses with', () => {
    const config: FnoConfig = {
      architecture: 'fno1d-scalar',
      inp_dim_func: 1,
      inp_dim_scalar: 1,
      out_dim_func: 1,
      modes: 4,
      width: 2,
      hidden: 2,
      layers: 1,
      activation: 'tanh',
    };
    const model = new Fno1dScalar(
      config,
      randomTensors(config, () => 0.1),
    );
    const T = 5;
    let err: unknown;
    try {
      model.forward(new Float64Array(T), new Float64Array(1), 1, T);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toBe(modesProblem(4, T));
  });
});

describe('config values', () => {
  it('config.json: validated, errors name the file', () => {
    expect(parseConfigJson('{"modes": 8, "activation": "GELU"}', 'config.json')).toEqual({
      modes: 8,
      activation: 'gelu',
    });
    expect(() => parseConfigJson('{', 'c.json')).toThrow(LoadError);
    expect(() => parseConfigJson('[1]', 'c.json')).toThrow(/^c\.json: must hold a JSON object/);
    expect(() => parseConfigJson('{"width": -1}', 'c.json')).toThrow(/^c\.json: config: "width"/);
  });

  it('safetensors metadata: strings read as numbers; only "format" means no config', () => {
    expect(parseMetadataConfig({ format: 'pt' }, 'm.safetensors')).toEqual({});
    expect(parseMetadataConfig({ format: 'pt', layers: '2' }, 'm.safetensors')).toEqual({ layers: 2 });
    expect(() => parseMetadataConfig({ activation: 'swish' }, 'm.safetensors')).toThrow(
      /^m\.safetensors: its __metadata__: activation "swish"/,
    );
  });
});
