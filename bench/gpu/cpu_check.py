#!/usr/bin/env python3
"""Runs bench/gpu/run.py on the CPU, with the CUDA driver and torch.cuda
faked, to check the benchmark's own code before GPU time is spent on it.

A GPU run is rare and short; a crash in run.py loses it. This runs run.py's
main() end to end over a kernels directory of bench/gpu/build.py (its
kernels.json manifests; the binaries are not loaded): every table and
sweep build, argument order and shapes against the manifest, launch
geometry (thread-block clusters through cuLaunchKernelEx) and dynamic
shared memory, the TMA kernels' tensor maps (each
encoded as the runtime's qoptTensorMap encodes it for its operand, once,
and passed after the inputs), the correctness checks, the printing
and the JSON. Each "launch" computes what the kernel computes, in f64 from
its operands, independently of run.py; run.py's checks must pass on that,
and must fail on a planted error:

  FAULT=scale  one element of the result 1 % off
  FAULT=nan    one element left as run.py poisoned it
  FAULT=swap   the two scale operands swapped (where their shapes match)
  FAULT=hang   the launch never returns (run.py's --row-timeout must end
               the process, naming the row)
  FAULT_ONLY   a substring of the function or kernel names the fault
               applies to
  CPU_CHECK_SMS  the SMs the fake device reports (default 132)

  python3 bench/gpu/build.py --out DIR --shrink 16 --format isa --kernels-only
  python3 bench/gpu/cpu_check.py --kernels DIR [run.py options]

Timings are constants (12.5 µs a call, 10 µs back to back); nothing here
measures anything.
"""

import collections
import ctypes
import importlib.util
import os
import struct
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FAULT = os.environ.get("FAULT", "none")
FAULT_ONLY = os.environ.get("FAULT_ONLY", "")
STATS = collections.Counter()

# --- torch.cuda and device="cuda" on the CPU ---------------------------------


def _on_cpu(factory):
    def wrapped(*args, **kwargs):
        if str(kwargs.get("device", "")).startswith("cuda"):
            kwargs["device"] = "cpu"
        return factory(*args, **kwargs)
    return wrapped


for _name in ("randn", "randint", "rand", "empty", "zeros", "ones", "full"):
    setattr(torch, _name, _on_cpu(getattr(torch, _name)))
_Generator = torch.Generator
torch.Generator = lambda device=None: _Generator()


class FakeEvent:
    def __init__(self, enable_timing=False):
        self.recorded = False

    def record(self):
        self.recorded = True

    def elapsed_time(self, other):
        assert self.recorded and other.recorded, "an event never recorded"
        return 0.010


class FakeProperties:
    name = "CPU (cpu_check.py)"
    # CPU_CHECK_SMS: fewer SMs than a persistent kernel has tiles, so that
    # its launch takes the device's count.
    multi_processor_count = int(os.environ.get("CPU_CHECK_SMS", "132"))
    L2_cache_size = 1 << 20


torch.cuda.Event = FakeEvent
torch.cuda.synchronize = lambda *a, **k: None
torch.cuda._sleep = lambda cycles: None
torch.cuda.current_stream = \
    lambda *a, **k: type("Stream", (), {"cuda_stream": 0})()
torch.cuda.get_device_properties = lambda *a, **k: FakeProperties()

# cuBLASLt's INT8 product refuses M <= 16 on a GPU; so here.
_int_mm = torch._int_mm


def _cuda_int_mm(a, b):
    if a.shape[0] <= 16:
        raise RuntimeError("self.size(0) needs to be greater than 16")
    return _int_mm(a, b)


torch._int_mm = _cuda_int_mm

# --- libcuda as ctypes callbacks (run.py's argtypes conversions run) ----------

c = ctypes
PENDING = []  # (kernel, tensors) of the launch being made
FUNCTIONS = {}  # fake CUfunction -> kernel name
PROTOTYPES = {
    "cuModuleLoadData": c.CFUNCTYPE(c.c_int, c.POINTER(c.c_void_p),
                                    c.c_void_p),
    "cuModuleGetFunction": c.CFUNCTYPE(c.c_int, c.POINTER(c.c_void_p),
                                       c.c_void_p, c.c_char_p),
    "cuLaunchKernel": c.CFUNCTYPE(c.c_int, c.c_void_p, c.c_uint, c.c_uint,
                                  c.c_uint, c.c_uint, c.c_uint, c.c_uint,
                                  c.c_uint, c.c_void_p,
                                  c.POINTER(c.c_void_p), c.c_void_p),
    "cuLaunchKernelEx": c.CFUNCTYPE(c.c_int, c.c_void_p, c.c_void_p,
                                    c.POINTER(c.c_void_p), c.c_void_p),
    "cuFuncSetAttribute": c.CFUNCTYPE(c.c_int, c.c_void_p, c.c_int, c.c_int),
    "cuGetErrorName": c.CFUNCTYPE(c.c_int, c.c_int, c.POINTER(c.c_char_p)),
    "cuTensorMapEncodeTiled": c.CFUNCTYPE(
        c.c_int, c.c_void_p, c.c_int, c.c_uint32, c.c_void_p,
        c.POINTER(c.c_uint64), c.POINTER(c.c_uint64), c.POINTER(c.c_uint32),
        c.POINTER(c.c_uint32), c.c_int, c.c_int, c.c_int, c.c_int),
}


def _load_module(module, image):
    assert image, "no image"
    module[0] = 0x1000
    return 0


def _get_function(function, module, name):
    assert module, "no module"
    handle = 0x5000 + len(FUNCTIONS)
    FUNCTIONS[handle] = name.decode()
    function[0] = handle
    return 0


def _set_attribute(function, attribute, value):
    # CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, only beyond 48 KiB.
    assert function in FUNCTIONS and attribute == 8 and value > 48 * 1024
    STATS["shared memory opt-ins"] += 1
    return 0


# The fake tensor map: a tag and what it describes (qoptTensorMap's key).
MAP_TAG = b"QOPT-MAP"
MAP_FORMAT = "<8sQ5q"
ENCODED = set()  # keys of the maps encoded


def map_key(t, box):
    """What a tensor map of `t` for boxes of box = [rows, columns]
    describes: address, rows, columns, element bytes, box rows, box
    columns."""
    rows, cols = t.shape
    return (t.data_ptr(), rows, cols, t.element_size(), *box)


def _encode_tensor_map(tensor_map, data_type, rank, address, dims, strides,
                       box, element_strides, interleave, swizzle, l2, fill):
    """cuTensorMapEncodeTiled, called while a launch is made: the map must
    be the one libqopt_cuda_runtime's qoptTensorMap encodes for one of the
    launch's TMA operands, and not one encoded before (run.py caches
    them)."""
    try:
        kernel, tensors = PENDING[-1]
        operands = [(tensors[m["operand"]], m["box"], m["swizzle_bytes"])
                    for m in kernel.manifest_maps]
        t, (box_rows, box_cols), swizzle_bytes = next(
            ((t, b, w) for t, b, w in operands if t.data_ptr() == address),
            (None, (None, None), None))
        assert t is not None, f"{address:#x} is no TMA operand's"
        rows, cols = t.shape
        size = t.element_size()
        assert tensor_map % 64 == 0, "a CUtensorMap is aligned to 64 bytes"
        assert data_type == {1: 0, 2: 1, 4: 2}[size], "data type"
        assert rank == 2
        assert [dims[0], dims[1]] == [cols, rows], "dimensions"
        assert strides[0] == cols * size, "row stride"
        assert [box[0], box[1]] == [box_cols, box_rows], "box"
        assert [element_strides[0], element_strides[1]] == [1, 1]
        assert interleave == 0, "interleave NONE"
        # The swizzle kernels.json gives, which is the span of a box row
        # (the 128-byte swizzle every wgmma kernel reads).
        assert swizzle == {0: 0, 32: 1, 64: 2, 128: 3}[swizzle_bytes], \
            "swizzle (kernels.json)"
        assert swizzle_bytes == (box_cols * size if box_cols * size in
                                 (32, 64, 128) else 0), "swizzle_bytes"
        assert l2 == 3, "L2 promotion 256B"
        assert fill == 0, "out-of-bounds fill NONE (zeros)"
        key = map_key(t, [box_rows, box_cols])
        assert key not in ENCODED, f"encoded again: {key}"
        ENCODED.add(key)
        c.memmove(tensor_map,
                  struct.pack(MAP_FORMAT, MAP_TAG, *key).ljust(128, b"\xa5"),
                  128)
        STATS["tensor maps encoded"] += 1
        return 0
    except Exception:  # noqa: BLE001 - cannot cross the C callback
        import traceback
        traceback.print_exc()
        STATS["failed tensor maps"] += 1
        return 1  # CUDA_ERROR_INVALID_VALUE


def read_map(address):
    """The key of the fake tensor map at `address` (a device address)."""
    assert address and address % 64 == 0, f"map address {address:#x}"
    tag, *key = struct.unpack_from(MAP_FORMAT, c.string_at(address, 128))
    assert tag == MAP_TAG, f"no tensor map at {address:#x}"
    return tuple(key)


def _launch_ex(config, function, params, extra):
    """cuLaunchKernelEx: a kernel in thread-block clusters, as kernels.json
    says, and then as cuLaunchKernel."""
    try:
        config = run.CUlaunchConfig.from_address(config)
        kernel, _ = PENDING[-1]
        assert kernel.cluster, f"{kernel.name} is not launched in clusters"
        assert config.numAttrs == 1
        attribute = config.attrs[0]
        assert attribute.id == run.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
        dim = attribute.value.clusterDim
        assert [dim.x, dim.y, dim.z] == kernel.cluster, "cluster dimension"
        assert all(g % d == 0 for g, d in zip(kernel.grid, kernel.cluster))
        STATS["launches in clusters"] += 1
    except Exception:  # noqa: BLE001 - cannot cross the C callback
        import traceback
        traceback.print_exc()
        STATS["failed launches"] += 1
        return 999
    return _launch(function, config.gridDimX, config.gridDimY,
                   config.gridDimZ, config.blockDimX, config.blockDimY,
                   config.blockDimZ, config.sharedMemBytes, config.hStream,
                   params, extra, clusters=True)


def _launch(function, gx, gy, gz, bx, by, bz, smem, stream, params, extra,
            clusters=False):
    try:
        kernel, tensors = PENDING.pop()
        assert FUNCTIONS[function] == kernel.name
        assert clusters == bool(kernel.cluster), \
            f"{kernel.name}: clusters {kernel.cluster}, launched {clusters}"
        assert [gx, gy, gz] == kernel.expected_grid, \
            f"grid {[gx, gy, gz]}, expected {kernel.expected_grid}"
        assert [bx, by, bz] == kernel.block
        assert smem == kernel.smem and extra is None
        # The inputs, the maps of their TMA operands, then Y.
        *inputs, y = tensors
        maps = kernel.manifest_maps
        for i, t in enumerate(inputs):
            pointer = c.c_void_p.from_address(params[i]).value
            assert pointer == t.data_ptr(), f"argument {i}"
        for j, m in enumerate(maps):
            address = c.c_uint64.from_address(params[len(inputs) + j]).value
            assert read_map(address) == map_key(inputs[m["operand"]],
                                                m["box"]), \
                f"argument {len(inputs) + j}: tensor map {j}"
        last = len(inputs) + len(maps)
        pointer = c.c_void_p.from_address(params[last]).value
        assert pointer == y.data_ptr(), f"argument {last} (Y)"
        emulate(kernel, tensors)
        STATS["launches"] += 1
        STATS["launches with tensor maps"] += bool(kernel.manifest_maps)
        return 0
    except Exception:  # noqa: BLE001 - cannot cross the C callback
        import traceback
        traceback.print_exc()
        STATS["failed launches"] += 1
        return 999


def _error_name(code, name):
    name[0] = b"CUDA_ERROR_FAKE"
    return 0


class FakeCuda:
    def __init__(self):
        implementations = {"cuModuleLoadData": _load_module,
                           "cuModuleGetFunction": _get_function,
                           "cuLaunchKernel": _launch,
                           "cuLaunchKernelEx": _launch_ex,
                           "cuFuncSetAttribute": _set_attribute,
                           "cuGetErrorName": _error_name,
                           "cuTensorMapEncodeTiled": _encode_tensor_map}
        for name, prototype in PROTOTYPES.items():
            setattr(self, name, prototype(implementations[name]))


_CDLL = ctypes.CDLL
ctypes.CDLL = lambda name, *a, **k: \
    FakeCuda() if name == "libcuda.so.1" else _CDLL(name, *a, **k)

# --- run.py --------------------------------------------------------------------

_spec = importlib.util.spec_from_file_location(
    "run", os.path.join(HERE, "run.py"))
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

_kernel_init = run.Kernel.__init__


def _init(self, driver, directory, manifest, launch):
    _kernel_init(self, driver, directory, manifest, launch)
    self.function = launch["function"]
    self.manifest_maps = launch.get("tensor_maps", [])
    # The grid the launch must use: kernels.json's, a persistent kernel's
    # x at most the device's SMs.
    self.expected_grid = list(launch["grid"])
    if launch.get("persistent"):
        per = launch["cluster"][0] if launch.get("cluster") else 1
        self.expected_grid[0] = max(
            per, min(self.expected_grid[0],
                     FakeProperties.multi_processor_count) // per * per)


_kernel_call = run.Kernel.__call__


def _call(self, *tensors):
    PENDING.append((self, tensors))
    _kernel_call(self, *tensors)
    assert not PENDING, "the launch did not happen"


run.Kernel.__init__ = _init
run.Kernel.__call__ = _call


def _time_calls(calls, runs, warmup=10):
    for call in calls:  # every operand set once (their shapes are checked)
        call()
    return run.Timing(12.5, 10.0)


run.time_calls = _time_calls

# --- what each kernel computes, independently of run.py ----------------------


def untile(w):
    """[N/16][bytes/64][16][64] (the GEMV's tiled weights) -> [N, bytes]."""
    n, nbytes = w.shape
    return w.view(n // 16, nbytes // 64, 16, 64).permute(0, 2, 1, 3) \
        .reshape(n, nbytes)


def eight_bit_product(kernel, family, tensors, swap_scales):
    """Y of the 8-bit GEMM or GEMV: x, w, sx, sw[, zx, Σ_k w], y (with
    `swap_scales`, sx and sw trade places where their shapes match)."""
    x, w, sx, sw = tensors[:4]
    if kernel.name.endswith("_tw"):
        w = untile(w)
    assert sx.dtype == torch.float32 and sw.dtype == torch.float32
    if family == "w8a8fp8":
        # The case's formats, from its name (independently of run.py).
        act = kernel.function.split("_")[1]
        w_type = {"e4m3": torch.float8_e4m3fn,
                  "e4m3e5m2": torch.float8_e5m2}[act]
        acc = x.view(torch.float8_e4m3fn).double() @ \
            w.view(w_type).double().t()
    else:
        assert x.dtype == torch.int8 and w.dtype == torch.int8
        unsigned = family == "w8a8u8"
        acc = (x.view(torch.uint8) if unsigned else x).double() @ \
            w.double().t()
        if family in ("w8a8u8", "w8a8z"):
            zx, row_sums = tensors[4], tensors[5]
            assert zx.dtype == torch.int8 and row_sums.dtype == torch.int32
            z = (zx.view(torch.uint8) if unsigned else zx).double()
            acc = acc - z.reshape(-1, 1) * row_sums.double().view(1, -1)
    if swap_scales and sx.shape == sw.shape:
        sx, sw = sw, sx
    return acc * sx.double().reshape(-1, 1) * sw.double().reshape(1, -1)


def weight_only_product(kernel, family, act, n, k, tensors):
    """Y of a weight-only kernel: x, w, s[, z], y."""
    storage, packed, group, zero = run.FAMILIES[family]
    x, w, s = tensors[:3]
    if kernel.name.endswith("_tw"):
        w = untile(w)
    if storage.startswith("f8"):
        q = w.view(torch.float8_e4m3fn).double()
    elif packed:
        b = w.view(torch.uint8).to(torch.int32)
        q = torch.stack([b & 0xF, b >> 4], dim=2).reshape(n, k)
        if storage.startswith("i"):
            q = torch.where(q >= 8, q - 16, q)
        q = q.double()
    else:
        q = (w.view(torch.uint8) if storage.startswith("u") else w).double()
    g = group or k
    assert list(s.shape) == [n, k // g]
    if zero:
        z = tensors[3]
        assert z.dtype == torch.int32 and list(z.shape) == [n, k // g]
        q = q - z.double().repeat_interleave(g, dim=1)
    assert x.dtype == run.TORCH_TYPES[act]
    return x.double() @ (q * s.double().repeat_interleave(g, dim=1)).t()


def emulate(kernel, tensors):
    family, act, m, n, k = run.parse_case(kernel.function)
    faulty = FAULT_ONLY in kernel.function or FAULT_ONLY in kernel.name
    if faulty and FAULT == "hang":
        time.sleep(3600)
    y = tensors[-1]
    assert list(y.shape) == [m, n]
    if family.startswith("w8a8"):
        out = eight_bit_product(kernel, family, tensors,
                                faulty and FAULT == "swap")
    else:
        out = weight_only_product(kernel, family, act, n, k, tensors)
    out = out.to(y.dtype)
    if faulty:
        flat = out.view(-1)
        worst = int(flat.float().abs().argmax())
        if FAULT == "scale":
            flat[worst] = flat[worst] * 1.01
        elif FAULT == "nan":  # that element as run.py poisoned it
            flat[worst] = y.view(-1)[worst]
    y.copy_(out)


if __name__ == "__main__":
    sys.argv = ["run.py"] + sys.argv[1:]
    try:
        status = run.main()
    finally:
        print(f"cpu_check: {dict(sorted(STATS.items()))}", file=sys.stderr)
    failed = STATS["failed launches"] + STATS["failed tensor maps"]
    sys.exit(status if failed == 0 else 1)
