"""quant_opt.from_torch on small PyTorch models."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import quant_opt as qo


class Block(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.up = torch.nn.Linear(hidden, 4 * hidden)
        self.down = torch.nn.Linear(4 * hidden, hidden)
        self.norm = torch.nn.LayerNorm(hidden)

    def forward(self, x):
        return self.norm(x + self.down(torch.nn.functional.gelu(self.up(x))))


class Net(torch.nn.Module):
    def __init__(self, hidden=64, layers=2):
        super().__init__()
        self.layers = torch.nn.ModuleList(Block(hidden) for _ in range(layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return Net().eval()


@pytest.fixture(scope="module")
def imported(net):
    return qo.from_torch(net, (torch.randn(2, 8, 64),))


def test_import_matches_pytorch(net, imported):
    x = torch.randn(2, 8, 64)
    with torch.no_grad():
        want = net(x).numpy()
    got = qo.compile(imported)(x.numpy())
    # f32 with reassociated sums over K <= 256: a few ulps of the LayerNorm
    # output scale.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_import_leaves_the_model_as_it_was():
    class WithBuffer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(4, 4)
            self.register_buffer("offset", torch.ones(4), persistent=False)

        def forward(self, x):
            return self.proj(x) + self.offset

    model = WithBuffer()
    keys = set(model.state_dict())
    qo.from_torch(model, (torch.randn(2, 4),))
    assert set(model.state_dict()) == keys
    assert model._non_persistent_buffers_set == {"offset"}


def test_layers_keep_their_module_names(imported):
    names = [r.name for r in imported.storage_report()]
    assert names == ["layers.0.up", "layers.0.down", "layers.1.up",
                     "layers.1.down"]


def test_skip_by_module_name(imported):
    quantized = qo.quantize(imported, "w8a16", skip=r"layers\.1\..*")
    storage = {r.name: r.storage for r in quantized.storage_report()}
    assert storage == {"layers.0.up": "i8", "layers.0.down": "i8",
                       "layers.1.up": "f32", "layers.1.down": "f32"}


def test_quantized_import_is_close(net, imported):
    x = torch.randn(2, 8, 64)
    with torch.no_grad():
        want = net(x).numpy()
    got = qo.compile(qo.quantize(imported, "w8a16"))(x.numpy())
    error = np.linalg.norm(got - want) / np.linalg.norm(want)
    assert error < 0.02  # INT8 per-channel weights (see test_workflow.BOUND)


def test_unsupported_op_names_op_and_layer():
    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(8, 8)

        def forward(self, x):
            return torch.special.bessel_j0(self.proj(x))

    class Outer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = Odd()

        def forward(self, x):
            return self.head(x)

    with pytest.raises(qo.UnsupportedOpError) as info:
        qo.from_torch(Outer(), (torch.randn(2, 8),))
    assert "special_bessel_j0" in str(info.value)
    assert "layer 'head'" in str(info.value)


def test_data_dependent_shape_is_an_error_not_a_hang():
    class Positive(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(8, 8)

        def forward(self, x):
            y = self.proj(x)
            return y[y > 0].sum().reshape(1)

    class Outer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = Positive()

        def forward(self, x):
            return self.gate(x)

    # torch-mlir's lowering of the masked index never returned.
    with pytest.raises(qo.UnsupportedOpError) as info:
        qo.from_torch(Outer(), (torch.randn(2, 8),))
    assert "depends on the input data" in str(info.value)
    assert "layer 'gate'" in str(info.value)


def test_model_without_products():
    class Scale(torch.nn.Module):
        def forward(self, x):
            return torch.relu(x) * 2

    model = qo.from_torch(Scale(), (torch.randn(4, 4),))
    with pytest.raises(qo.QuantOptError, match="no quantizable matrix product"):
        qo.quantize(model, "w4a16-g128")


def test_import_after_jit_in_the_same_process():
    # The JIT must not put libLLVM into the global symbol scope, where
    # torch-mlir's own LLVM, loaded later, would bind to it and abort on
    # options registered twice. A fresh process, so the order is JIT first.
    result = subprocess.run([sys.executable, "-c", JIT_THEN_IMPORT],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


JIT_THEN_IMPORT = r"""
import numpy as np, torch, quant_opt as qo
add = qo.Module.parse(
    "func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {"
    "  %0 = arith.addf %a, %a : tensor<2xf32>"
    "  return %0 : tensor<2xf32>"
    "}").compile()
assert (add(np.ones(2, np.float32)) == 2).all()

class Twice(torch.nn.Module):
    def forward(self, x):
        return x * 2

imported = qo.from_torch(Twice(), (torch.ones(3),))
assert (qo.compile(imported)(np.ones(3, np.float32)) == 2).all()
print("ok")
"""
