"""Writes the small torch.save checkpoints in test/engine/io/cases/ and expected.json (their exact values).

Run from the repository root with a Python that has PyTorch (Debian's python3-torch works):

    /usr/bin/python3 test/engine/io/make-torch-cases.py

The files are committed so that the tests never need torch. Every value in expected.json is exact:
floats are written as the shortest decimal that round-trips (Python repr), which JSON.parse turns
back into the same double; NaN and infinities are the strings "nan", "inf", "-inf".
"""
import importlib.util
import io
import json
import math
import os
import struct
import sys
import zipfile

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")
MODEL = os.path.abspath(os.path.join(HERE, "..", "..", "..", "scripts", "fixtures", "make_fno_fixtures.py"))


def _load_model_module():
    """scripts/fixtures/make_fno_fixtures.py (the fixtures' model definition), loaded under the module
    name fno_model: whole-module.pt pickles FNO1d by reference as fno_model.FNO1d."""
    spec = importlib.util.spec_from_file_location("fno_model", MODEL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fno_model"] = module
    spec.loader.exec_module(module)
    return module


fno_model = _load_model_module()

DTYPE_NAMES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
    torch.bfloat16: "bfloat16", torch.complex64: "complex64", torch.complex128: "complex128",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8",
    torch.uint8: "uint8", torch.bool: "bool",
}

TINY = {"inp_dim_func": 3, "inp_dim_scalar": 2, "out_dim_func": 2, "modes": 3, "width": 4,
        "hidden": 5, "layers": 2, "activation": "gelu"}


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def expect(t):
    t = t.detach()
    out = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
    flat = t.contiguous().reshape(-1)
    if t.is_complex():
        out["data"] = [num(v) for v in flat.real.double().tolist()]
        out["imag"] = [num(v) for v in flat.imag.double().tolist()]
    elif t.dtype == torch.bool:
        out["data"] = [1 if v else 0 for v in flat.tolist()]
    elif t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        out["data"] = [int(v) for v in flat.tolist()]
    else:
        out["data"] = [num(v) for v in flat.double().tolist()]
    return out


def expect_all(named):
    return {k: expect(v) for k, v in named.items()}


def tiny_model(seed=3):
    return fno_model.build(TINY, seed)


cases = {}
# Several cases hold the same weights; their expected values are stored once, under a set name.
tensor_sets = {}


def save(name, obj, expected, notes=(), tensor_set=None):
    torch.save(obj, os.path.join(OUT, name))
    add_case(name, expected, notes, tensor_set)


def add_case(name, expected, notes=(), tensor_set=None):
    key = tensor_set or name
    if key in tensor_sets:
        assert tensor_sets[key] == expected, key
    tensor_sets[key] = expected
    cases[name] = {"tensorSet": key, "notes": list(notes)}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    model = tiny_model()
    sd = model.state_dict()
    names_sd = expect_all(sd)

    # A bare state_dict, as the fixtures are saved.
    save("state-dict.pt", sd, names_sd, tensor_set="tiny")
    # pickle_protocol=4: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL instead of protocol 2's opcodes.
    torch.save(sd, os.path.join(OUT, "protocol4.pt"), pickle_protocol=4)
    add_case("protocol4.pt", names_sd, tensor_set="tiny")

    # A training checkpoint with optimizer state beside the weights.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Gradients are drawn, not computed: PyTorch's backward pass here is not bit-reproducible.
    g_grad = torch.Generator().manual_seed(17)
    for prm in model.parameters():
        prm.grad = torch.randn(prm.shape, dtype=prm.dtype, generator=g_grad)
    opt.step()
    sd_after = {k: v.clone() for k, v in model.state_dict().items()}
    save("training-checkpoint.pth",
         {"epoch": 7, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
          "loss": 0.125, "config": model.config()},
         expect_all(sd_after), notes=["model_state_dict", "optimizer_state_dict", "epoch"],
         tensor_set="tiny-after-adam-step")

    # PyTorch Lightning keeps the LightningModule's state_dict: every name starts with 'model.'.
    save("lightning.ckpt",
         {"epoch": 3, "global_step": 120, "pytorch-lightning_version": "2.1.0",
          "state_dict": {"model." + k: v for k, v in sd_after.items()},
          "hyper_parameters": {"lr": 1e-3}, "callbacks": {}, "lr_schedulers": []},
         expect_all(sd_after), notes=["'model.'", "state_dict"], tensor_set="tiny-after-adam-step")

    # A whole nn.Module pickled by reference to fno_model.FNO1d (the code is not in the file).
    save("whole-module.pt", model, expect_all(model.state_dict()), notes=["fno_model.FNO1d"],
         tensor_set="tiny-after-adam-step")

    # TorchScript (torch.jit.save of a traced model): attributes instead of _parameters/_modules.
    traced = torch.jit.trace(model, (torch.randn(1, 8, TINY["inp_dim_func"]), torch.randn(1, TINY["inp_dim_scalar"])))
    assert list(traced.state_dict().keys()) == list(model.state_dict().keys())
    traced.save(os.path.join(OUT, "torchscript.pt"))
    add_case("torchscript.pt", expect_all(traced.state_dict()), notes=["TorchScript", "FNO1d"],
             tensor_set="tiny-after-adam-step")

    # DataParallel: every name gets 'module.'; also as a whole pickled wrapper.
    dp = nn.DataParallel(model)
    save("dataparallel.pth", dp.state_dict(), expect_all(model.state_dict()), notes=["'module.'"],
         tensor_set="tiny-after-adam-step")
    save("dataparallel-module.pt", {"model": dp, "epoch": 1}, expect_all(model.state_dict()),
         notes=["'module.'", "'model'"], tensor_set="tiny-after-adam-step")

    # A nested module with buffers, a non-persistent buffer and a missing bias (None parameter).
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.Tanh(),
                                      nn.Sequential(nn.Linear(4, 2)))
            self.register_buffer("scale", torch.tensor([0.5, 2.0]))
            self.register_buffer("cache", torch.ones(3), persistent=False)

    torch.manual_seed(5)
    net = Net()
    net.train()
    net.body(torch.randn(6, 3))  # moves the BatchNorm running statistics away from their defaults
    Net.__module__ = "jacscope_cases"
    Net.__qualname__ = "Net"
    sys.modules["jacscope_cases"] = sys.modules[__name__]
    globals()["Net"] = Net
    save("nested-module.pt", net, expect_all(net.state_dict()))

    # Views: whole storages are saved, the view (offset, shape, strides) is in the pickle.
    g = torch.Generator().manual_seed(11)
    base = torch.randn(5, 6, generator=g)
    cube = torch.randn(2, 3, 4, generator=g)
    cbase = torch.randn(4, 5, dtype=torch.complex64, generator=g)
    views = {
        "base": base,
        "transposed": base.t(),
        "offset": base[1:, 2:],
        "strided": base[::2, 1::3],
        "row": base[3],
        "column": base[:, 4],
        "element": base[2, 3],
        "expanded": torch.randn(1, 4, generator=g).expand(3, 4),
        "permuted": cube.permute(2, 0, 1),
        "empty": base[2:2],
        "scalar": torch.tensor(3.25),
        "complex_transposed": cbase.t(),
        "complex_offset": cbase[1:3, 1:],
    }
    # Expected values come from contiguous copies; the saved objects keep their strides.
    save("views.pt", views, expect_all(views))

    # Every dtype the reader decodes, with the awkward values of each.
    specials = [0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, float("inf"), float("-inf"), float("nan")]
    dtypes = {
        "f64": torch.tensor([math.pi, -1e-300, 1e300, 5e-324, -0.0, float("nan")], dtype=torch.float64),
        "f16": torch.tensor(specials, dtype=torch.float16),
        "bf16": torch.tensor(specials + [3.0e38, 1.0e-40], dtype=torch.bfloat16),
        "f32": torch.tensor([1.0e-45, 3.4028234663852886e38, -1.5, 0.1], dtype=torch.float32),
        "i64": torch.tensor([0, -1, 2**53, -(2**53), 123456789012, -9], dtype=torch.int64),
        "i32": torch.tensor([2**31 - 1, -(2**31), 7], dtype=torch.int32),
        "i16": torch.tensor([32767, -32768, -2], dtype=torch.int16),
        "i8": torch.tensor([127, -128, 0], dtype=torch.int8),
        "u8": torch.tensor([255, 0, 17], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "c64": torch.tensor([1 + 2j, -0.5 - 0.25j, 3e-3j], dtype=torch.complex64),
        "c128": torch.randn(2, 3, dtype=torch.complex128, generator=g),
    }
    save("dtypes.pt", dtypes, expect_all(dtypes))

    # Spectral weights stored as real [in, out, modes, 2] (view_as_real shares the complex storage).
    w = model.spect1.weights1.detach()
    real_sd = {k: (torch.view_as_real(v) if v.is_complex() else v) for k, v in sd.items()}
    save("real-spectral.pt", real_sd, expect_all(real_sd))
    assert torch.equal(torch.view_as_real(w), real_sd["spect1.weights1"])

    # float64 / complex128 model (fno_model.to_double), saved with keep_vars: Parameters are pickled.
    dmodel = fno_model.to_double(tiny_model(seed=4))
    save("double-params.pt", dmodel.state_dict(keep_vars=True), expect_all(dmodel.state_dict()))

    # Big-endian: rewrite a checkpoint with byte-swapped storages and byteorder 'big'
    # (this PyTorch cannot write it, but newer versions do on big-endian machines).
    be_src = {"f32": dtypes["f32"], "f64": dtypes["f64"], "f16": dtypes["f16"], "bf16": dtypes["bf16"],
              "i64": dtypes["i64"], "i16": dtypes["i16"], "u8": dtypes["u8"], "c64": dtypes["c64"],
              "c128": dtypes["c128"], "transposed": base.t()}
    buf = io.BytesIO()
    torch.save(be_src, buf)
    write_big_endian(buf.getvalue(), os.path.join(OUT, "big-endian.pt"), be_src)
    add_case("big-endian.pt", expect_all(be_src), notes=["big-endian"])

    # The pre-1.6 format: must be refused with advice. (Its storage keys are memory addresses, so this
    # file differs from run to run.)
    torch.save(sd, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)
    cases["legacy.pt"] = {"error": "legacy"}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"generator": "test/engine/io/make-torch-cases.py", "torch": torch.__version__, "cases": cases,
                   "tensorSets": tensor_sets},
                  f, indent=None, separators=(",", ":"))
        f.write("\n")
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print(f"{size:8d}  {name}")
    print(f"{total:8d}  total")


def write_big_endian(data, path, tensors):
    """Copies a torch zip, byte-swapping each storage per element (per component for complex)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    top = names[0].split("/")[0]
    # Storage key → element size, from the pickle's persistent ids.
    sizes = {}
    import pickle

    class Peek(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch" and name.endswith("Storage"):
                return name
            if module.startswith("torch"):
                return lambda *args, **kwargs: None
            return super().find_class(module, name)

        def persistent_load(self, pid):
            _, stype, key, _, _ = pid
            dt = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
                  "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "ByteStorage": 1, "BoolStorage": 1,
                  "CharStorage": 1, "ComplexFloatStorage": 4, "ComplexDoubleStorage": 8}[stype]
            sizes[key] = dt
            return torch.zeros(0).storage()

    Peek(io.BytesIO(src.read(f"{top}/data.pkl"))).load()
    assert len(sizes) == sum(1 for n in names if n.startswith(f"{top}/data/")), sizes
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as dst:
        for n in names:
            blob = src.read(n)
            key = n[len(f"{top}/data/"):] if n.startswith(f"{top}/data/") else None
            if key is not None:
                size = sizes[key]
                blob = b"".join(blob[i:i + size][::-1] for i in range(0, len(blob), size))
            dst.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), blob)
            if n == f"{top}/data.pkl":
                dst.writestr(zipfile.ZipInfo(f"{top}/byteorder", date_time=(1980, 1, 1, 0, 0, 0)), b"big")


if __name__ == "__main__":
    main()
