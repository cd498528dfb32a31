#!/usr/bin/env python3
"""Correctness and timing of quant-opt's GPU kernels on an NVIDIA GPU.

Needs the CUDA driver and PyTorch (for data, the fp32 reference and the
cuBLAS baseline); no MLIR. The kernels come from bench/gpu/build.py, run
where quant-opt is built. Each kernel is loaded with cuModuleLoadData and
launched with cuLaunchKernel on PyTorch's current stream; arguments are
bare device pointers in the order kernels.json lists them, and for a
kernel that loads its tiles by TMA (`tensor_maps` in kernels.json), the
device addresses of its tensor maps after the inputs, before the output.

For every case it
  - checks the kernel against an fp32 reference (PyTorch matmul of the
    dequantized weight s (q - z), TF32 off) on random data, the output poisoned with
    NaN before the run; the bound per element is
        |y - ref| <= u_out |ref| + 2 K 2^-24 (|x| |W|ᵀ) + 2^-24
    (u_out = 2^-11 for f16 results, 2^-8 for bf16): the codes and f16/bf16
    inputs are exact, so only f32 summation order and the final rounding
    remain; kernels that scale weights before the product (groups smaller
    than the GEMV's K step) add 2.001 u_act (|x| |W|ᵀ);
  - times it with CUDA events, median of --runs runs after warm-up, over
    enough copies of the operands to exceed 3x the L2 cache, against
    torch.nn.functional.linear in fp16 (cuBLAS) timed the same way, and
    against the bandwidth floor: bytes the kernel must move (packed weight,
    scales, X, Y) / the device's measured copy bandwidth. Each time is also
    taken back to back (b2b): `--runs` calls between one event pair, over
    `--runs`, which leaves out the per-call event overhead the median
    carries (the way Marlin's and most kernel benchmarks time).

  python3 bench/gpu/run.py --kernels build/gpu-bench [--json out.json]
"""

import argparse
import collections
import ctypes
import faulthandler
import fnmatch
import json
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build import FAMILIES  # noqa: E402  (the families this run measures)

CU_SUCCESS = 0
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
# A CUtensorMap: 128 opaque bytes, aligned to 64.
CU_TENSOR_MAP_BYTES = 128
CU_TENSOR_MAP_ALIGNMENT = 64
# CUtensorMapDataType by element bytes (UINT8, UINT16, UINT32).
CU_TENSOR_MAP_DATA_TYPES = {1: 0, 2: 1, 4: 2}
CU_TENSOR_MAP_INTERLEAVE_NONE = 0
# CUtensorMapSwizzle of a swizzle span in bytes (kernels.json's
# swizzle_bytes; 0: none).
CU_TENSOR_MAP_SWIZZLES = {0: 0, 32: 1, 64: 2, 128: 3}
CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3
CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0
CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4


class CUlaunchAttribute(ctypes.Structure):
    """cuda.h's CUlaunchAttribute, for the cluster dimension only."""
    class Value(ctypes.Union):
        class ClusterDim(ctypes.Structure):
            _fields_ = [("x", ctypes.c_uint), ("y", ctypes.c_uint),
                        ("z", ctypes.c_uint)]
        _fields_ = [("pad", ctypes.c_char * 64), ("clusterDim", ClusterDim)]
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4),
                ("value", Value)]


class CUlaunchConfig(ctypes.Structure):
    """cuda.h's CUlaunchConfig (cuLaunchKernelEx)."""
    _fields_ = [("gridDimX", ctypes.c_uint), ("gridDimY", ctypes.c_uint),
                ("gridDimZ", ctypes.c_uint), ("blockDimX", ctypes.c_uint),
                ("blockDimY", ctypes.c_uint), ("blockDimZ", ctypes.c_uint),
                ("sharedMemBytes", ctypes.c_uint),
                ("hStream", ctypes.c_void_p),
                ("attrs", ctypes.POINTER(CUlaunchAttribute)),
                ("numAttrs", ctypes.c_uint)]


class Driver:
    def __init__(self):
        self.lib = ctypes.CDLL("libcuda.so.1")
        self.lib.cuModuleLoadData.argtypes = [ctypes.POINTER(ctypes.c_void_p),
                                              ctypes.c_void_p]
        self.lib.cuModuleGetFunction.argtypes = [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_char_p]
        self.lib.cuLaunchKernel.argtypes = [
            ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        self.lib.cuFuncSetAttribute.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                                ctypes.c_int]
        self.lib.cuGetErrorName.argtypes = [ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_char_p)]
        # A CUDA 12 driver's: kernels in clusters need it, the others not.
        if hasattr(self.lib, "cuLaunchKernelEx"):
            self.lib.cuLaunchKernelEx.argtypes = [
                ctypes.POINTER(CUlaunchConfig), ctypes.c_void_p,
                ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
        # A CUDA 12 driver's: TMA kernels need it, the others do not.
        if hasattr(self.lib, "cuTensorMapEncodeTiled"):
            u32, u64 = ctypes.c_uint32, ctypes.c_uint64
            self.lib.cuTensorMapEncodeTiled.argtypes = [
                ctypes.c_void_p, ctypes.c_int, u32, ctypes.c_void_p,
                ctypes.POINTER(u64), ctypes.POINTER(u64), ctypes.POINTER(u32),
                ctypes.POINTER(u32), ctypes.c_int, ctypes.c_int, ctypes.c_int,
                ctypes.c_int]
        self.modules = {}
        self.keep = []
        self.tensor_maps = {}

    def check(self, result, what):
        if result != CU_SUCCESS:
            name = ctypes.c_char_p()
            self.lib.cuGetErrorName(result, ctypes.byref(name))
            raise RuntimeError(f"{what} failed: {name.value}")

    def function(self, path, kernel):
        if path not in self.modules:
            with open(path, "rb") as f:
                image = f.read()
            self.keep.append(image)
            module = ctypes.c_void_p()
            self.check(self.lib.cuModuleLoadData(ctypes.byref(module), image),
                       f"cuModuleLoadData({path})")
            self.modules[path] = module
        func = ctypes.c_void_p()
        self.check(self.lib.cuModuleGetFunction(
            ctypes.byref(func), self.modules[path], kernel.encode()),
            f"cuModuleGetFunction({kernel})")
        return func

    def tensor_map(self, t, box, swizzle_bytes):
        """The device address of a TMA tensor map of the row-major 2-D
        tensor `t` for boxes of box = [rows, columns] elements, as
        libqopt_cuda_runtime's qoptTensorMap makes it: swizzled over
        `swizzle_bytes` (kernels.json: the swizzle the kernel reads), rows
        and columns past the tensor read as zeros, L2 lines of 256 bytes.
        Encoded and uploaded once for each buffer, shape, box and swizzle,
        so that calls over rotating operand sets find theirs (a map depends
        on nothing else)."""
        rows, cols = t.shape
        size = t.element_size()
        box_rows, box_cols = box
        key = (t.data_ptr(), rows, cols, size, box_rows, box_cols,
               swizzle_bytes)
        if key in self.tensor_maps:  # Every timed call but the first.
            return self.tensor_maps[key].data_ptr()
        if not hasattr(self.lib, "cuTensorMapEncodeTiled"):
            raise RuntimeError("this CUDA driver has no cuTensorMapEncodeTiled"
                               " (TMA kernels need a CUDA 12 driver)")
        buffer = (ctypes.c_uint8 * (CU_TENSOR_MAP_BYTES +
                                    CU_TENSOR_MAP_ALIGNMENT - 1))()
        host = (ctypes.c_uint8 * CU_TENSOR_MAP_BYTES).from_buffer(
            buffer, -ctypes.addressof(buffer) % CU_TENSOR_MAP_ALIGNMENT)
        # Innermost dimension first.
        self.check(self.lib.cuTensorMapEncodeTiled(
            host, CU_TENSOR_MAP_DATA_TYPES[size], 2, t.data_ptr(),
            (ctypes.c_uint64 * 2)(cols, rows),
            (ctypes.c_uint64 * 1)(cols * size),
            (ctypes.c_uint32 * 2)(box_cols, box_rows),
            (ctypes.c_uint32 * 2)(1, 1), CU_TENSOR_MAP_INTERLEAVE_NONE,
            CU_TENSOR_MAP_SWIZZLES[swizzle_bytes],
            CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
            CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
            f"cuTensorMapEncodeTiled({rows}x{cols}, box {box})")
        # (A synchronous copy: complete before any launch reads it;
        # allocations are aligned far beyond 64 bytes.)
        device = torch.empty(CU_TENSOR_MAP_BYTES, dtype=torch.uint8,
                             device="cuda")
        device.copy_(torch.frombuffer(host, dtype=torch.uint8))
        self.tensor_maps[key] = device
        return self.tensor_maps[key].data_ptr()


def persistent_grid_x(tiles, sms, cluster):
    """A persistent kernel's grid x as the compiled host code launches it:
    a block an SM, no more than tiles, in whole clusters (at least one)."""
    per = cluster[0] if cluster else 1
    return max(per, min(tiles, sms) // per * per)


class Kernel:
    """One launch of kernels.json, callable on torch tensors."""

    def __init__(self, driver, directory, manifest, launch):
        binary = next(b for b in manifest["binaries"]
                      if b["name"] == launch["binary"])
        self.driver = driver
        self.func = driver.function(os.path.join(directory, binary["file"]),
                                    launch["kernel"])
        self.name = launch["kernel"]
        self.grid = list(launch["grid"])
        # A persistent kernel's grid: at most one block an SM (as the
        # compiled host code launches it).
        if launch.get("persistent"):
            sms = torch.cuda.get_device_properties(0).multi_processor_count
            self.grid[0] = persistent_grid_x(self.grid[0], sms,
                                             launch.get("cluster"))
        self.block = launch["block"]
        self.smem = launch["dynamic_shared_memory"]
        self.arguments = launch["arguments"]
        # A TMA kernel's tensor maps of its inputs ({"operand": index into
        # the inputs, "box": [rows, columns]}), passed after them.
        self.tensor_maps = launch.get("tensor_maps", [])
        # Thread-block clusters: launched through cuLaunchKernelEx.
        self.cluster = launch.get("cluster")
        if self.cluster:
            if not hasattr(driver.lib, "cuLaunchKernelEx"):
                raise RuntimeError("this CUDA driver has no cuLaunchKernelEx"
                                   " (clusters need a CUDA 12 driver)")
            self.cluster_attribute = CUlaunchAttribute(
                id=CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
            dim = self.cluster_attribute.value.clusterDim
            dim.x, dim.y, dim.z = self.cluster
        # Beyond 48 KiB, dynamic shared memory is opted into per kernel
        # (as libqopt_cuda_runtime's mgpuLaunchKernel does).
        if self.smem > 48 * 1024:
            driver.check(driver.lib.cuFuncSetAttribute(
                self.func, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                self.smem), f"cuFuncSetAttribute({self.name})")

    def __call__(self, *tensors):
        """Launches the kernel on its inputs and output Y (the manifest's
        arguments), passing the tensor maps it takes before Y."""
        assert len(tensors) == len(self.arguments)
        for t, a in zip(tensors, self.arguments):
            assert list(t.shape) == a["shape"] and t.is_contiguous(), \
                (self.name, list(t.shape), a)
        *inputs, y = tensors
        maps = [ctypes.c_uint64(self.driver.tensor_map(
                    inputs[m["operand"]], m["box"], m["swizzle_bytes"]))
                for m in self.tensor_maps]
        values = [ctypes.c_void_p(t.data_ptr()) for t in inputs] + maps + \
            [ctypes.c_void_p(y.data_ptr())]
        params = (ctypes.c_void_p * len(values))(
            *[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p)
              for v in values])
        stream = torch.cuda.current_stream().cuda_stream
        if self.cluster:
            config = CUlaunchConfig(
                *self.grid, *self.block, self.smem, ctypes.c_void_p(stream),
                ctypes.pointer(self.cluster_attribute), 1)
            self.driver.check(self.driver.lib.cuLaunchKernelEx(
                ctypes.byref(config), self.func, params, None),
                f"launch {self.name} in clusters of {self.cluster}")
            return
        self.driver.check(self.driver.lib.cuLaunchKernel(
            self.func, *self.grid, *self.block, self.smem,
            ctypes.c_void_p(stream), params, None), f"launch {self.name}")


# --- data -------------------------------------------------------------------

TORCH_TYPES = {"f16": torch.float16, "bf16": torch.bfloat16,
               "f32": torch.float32}


def family_traits(family):
    """What a weight-only family of bench/gpu/build.py holds: storage type,
    bits, signedness, group along K (0: per row) and zero points."""
    storage, packed, group, zero = FAMILIES[family]
    bits = 4 if packed else 8
    return storage, bits, not storage.startswith("u"), group, zero


def make_case(family, act, m, n, k, gen):
    """Random X, codes, packed weight, scales and (families with z) integer
    zero points; the dequantized weight s (q - z)."""
    dtype = TORCH_TYPES[act]
    x = torch.randn(m, k, generator=gen, device="cuda").to(dtype)
    storage, bits, signed, group, has_zero = family_traits(family)
    group = group or k
    if storage.startswith("f8"):
        codes = (torch.randn(n, k, generator=gen, device="cuda") * 64) \
            .clamp(-448, 448).to(torch.float8_e4m3fn)
        weight = codes.view(torch.int8)
        spread, least = 0.0002, 0.00005
    else:
        half = 1 << (bits - 1)
        lo, hi = (-half, half) if signed else (0, 2 * half)
        codes = torch.randint(lo, hi, (n, k), generator=gen, device="cuda",
                              dtype=torch.int32)
        if bits == 4:
            nib = codes & 0xF
            # qopt.pack: element 2j in the low nibble, 2j + 1 in the high one.
            weight = (nib[:, 0::2] | (nib[:, 1::2] << 4)).to(torch.uint8) \
                .view(torch.int8)
            spread, least = 0.02, 0.005
        else:
            weight = codes.to(torch.int8) if signed else \
                codes.to(torch.uint8).view(torch.int8)
            spread, least = 0.002, 0.0005
    scale = torch.rand(n, k // group, generator=gen, device="cuda") * spread \
        + least
    values = codes.float()
    zero = None
    if has_zero:
        zero = torch.randint(0, 1 << bits, (n, k // group), generator=gen,
                             device="cuda", dtype=torch.int32)
        values = values - zero.repeat_interleave(group, dim=1).float()
    deq = values * scale.repeat_interleave(group, dim=1)
    return x, weight, scale, zero, deq


def make_w8a8_case(m, n, k, gen):
    """INT8 codes on both sides, per-row scales; the exact integer product,
    independent of the kernel under test: cuBLASLt's (torch._int_mm, fast)
    where it takes the shape, else in f64 (|sums| < 2^53)."""
    x = torch.randint(-127, 128, (m, k), generator=gen, device="cuda",
                      dtype=torch.int32).to(torch.int8)
    w = torch.randint(-127, 128, (n, k), generator=gen, device="cuda",
                      dtype=torch.int32).to(torch.int8)
    sx = torch.rand(m, 1, generator=gen, device="cuda") * 0.02 + 0.005
    sw = torch.rand(n, 1, generator=gen, device="cuda") * 0.002 + 0.0005
    exact = torch._int_mm(x, w.t()) if m > 16 else \
        x.double() @ w.double().t()
    return x, w, sx, sw, exact


def weight_operand(kernel, w):
    """W as the kernel reads it: in the GEMV's tiles for a `_tw` kernel
    (the layout the compiler gives a constant weight), else as it is."""
    return tile_weights(w) if kernel.name.endswith("_tw") else w


def as_argument(kernel, index, t):
    """`t` in the shape kernel argument `index` has: a per-row scale or
    zero point of one row ([1, 1]) is a per-tensor one ([]) to the
    compiler."""
    return t.reshape(kernel.arguments[index]["shape"])


def time_int_mm(x, w, runs):
    """cuBLASLt's INT8 product (torch._int_mm) timed, or None where it
    does not take the shape (M <= 16)."""
    try:
        return time_calls([lambda: torch._int_mm(x, w.t())], runs)
    except RuntimeError:
        return None


def within(y, ref, tol):
    """(every element of y finite and within tol of ref, largest
    |y - ref| / tol)."""
    err = (y.double() - ref.double()).abs()
    finite = bool(torch.isfinite(y.float()).all())
    ratio = float((err / tol).max()) if finite else math.inf
    ok = finite and ratio <= 1.0
    if not ok and y.dim() == 2:
        MISMATCHES.append(describe_mismatch(y, ref, ~(err <= tol)))
    return ok, ratio


# What failed checks found, printed under their row by main().
MISMATCHES = []


def print_mismatches():
    for line in MISMATCHES:
        print(line)
    MISMATCHES.clear()


def describe_mismatch(y, ref, bad):
    """Where a 2-D result is wrong, in one line: how much, the first bad
    element, and which rows and columns (for a layout bug: a pattern in
    row mod 16 / column mod 8 points at a fragment or a swizzle)."""
    where = bad.nonzero()
    first = tuple(int(i) for i in where[0])
    rows = bad.any(dim=1).nonzero().flatten()
    cols = bad.any(dim=0).nonzero().flatten()
    return (f"    mismatch: {int(bad.sum())} of {bad.numel()} elements; first "
          f"at {first}: {float(y[first]):.6g} for {float(ref[first]):.6g}; "
          f"{rows.numel()} rows (first {rows[:8].tolist()}, mod 16: "
          f"{sorted(set((rows % 16).tolist()))[:16]}), {cols.numel()} columns "
          f"(first {cols[:8].tolist()}, mod 8: "
          f"{sorted(set((cols % 8).tolist()))})")


FP8_CASES = {}


# The FP8 pairs of bench/gpu/build.py's cases: X's format, W's.
FP8_TYPES = {"e4m3": (torch.float8_e4m3fn, torch.float8_e4m3fn),
             "e4m3e5m2": (torch.float8_e4m3fn, torch.float8_e5m2)}


def make_fp8_case(act, m, n, k, gen):
    """FP8 codes (`act`: E4M3 on both sides, or E5M2 weights; normal values
    spread over E4M3's range), per-row scales; the reference product in f64
    (products of FP8 values are exact there). One case a shape and pair,
    kept for the other builds of it: the two f64 products of M = 4096,
    N = K = 8192 take seconds."""
    if (act, m, n, k) not in FP8_CASES:
        FP8_CASES[(act, m, n, k)] = new_fp8_case(act, m, n, k, gen)
    return FP8_CASES[(act, m, n, k)]


def new_fp8_case(act, m, n, k, gen):
    def codes(rows, dtype):
        v = torch.randn(rows, k, generator=gen, device="cuda") * 16
        return v.clamp(-448, 448).to(dtype)
    x_type, w_type = FP8_TYPES[act]
    x, w = codes(m, x_type), codes(n, w_type)
    sx = torch.rand(m, 1, generator=gen, device="cuda") * 0.02 + 0.005
    sw = torch.rand(n, 1, generator=gen, device="cuda") * 0.002 + 0.0005
    exact = x.double() @ w.double().t()
    bound = x.double().abs() @ w.double().abs().t()
    return x, w, sx, sw, exact, bound


def check_fp8(y, exact, bound, sx, sw, k):
    # Exact products summed in f32 (2 K 2^-24 of the magnitudes), two f32
    # scale products and the f16 result (2^-11).
    scale = sx.double() * sw.double().t()
    ref = exact * scale
    tol = (2.0 ** -11 + 4 * 2.0 ** -24) * ref.abs() + \
        2 * k * 2.0 ** -24 * bound * scale + 2.0 ** -24
    return within(y, ref, tol)


def bench_w8a8_zero(kernel, unsigned, m, n, k, runs, l2, bw, gen):
    """Asymmetric activations x i8 weights: ui8 codes with per-row zero
    points (unsigned), or i8 codes with a per-tensor one; the kernel also
    takes the weight's row sums. Exact reference in f64. The timing
    baseline is the symmetric INT8 product (torch._int_mm)."""
    lo, hi = (0, 256) if unsigned else (-128, 128)
    x = torch.randint(lo, hi, (m, k), generator=gen, device="cuda",
                      dtype=torch.int32)
    w = torch.randint(-127, 128, (n, k), generator=gen, device="cuda",
                      dtype=torch.int32)
    zshape = (m, 1) if unsigned else ()
    zx = torch.randint(lo, hi, zshape, generator=gen, device="cuda",
                       dtype=torch.int32)
    sx = torch.rand(zshape, generator=gen, device="cuda") * 0.02 + 0.005
    sw = torch.rand(n, 1, generator=gen, device="cuda") * 0.002 + 0.0005
    exact = (x.double() - zx.double()) @ w.double().t()
    w8 = w.to(torch.int8)

    def codes(t):
        return t.to(torch.uint8).view(torch.int8) if unsigned \
            else t.to(torch.int8)
    operands = [codes(x), weight_operand(kernel, w8), as_argument(kernel, 2, sx),
                sw,
                as_argument(kernel, 4, codes(zx)),
                w.sum(dim=1).to(torch.int32),
                torch.empty((m, n), dtype=torch.float16, device="cuda")]
    ours, moved = run_and_time(kernel, operands, runs, l2)
    ok, ratio = check_w8a8(operands[-1], exact, sx, sw)
    x8 = (x.sub(128) if unsigned else x).to(torch.int8)
    int_mm = time_int_mm(x8, w8, runs)
    return ok, ratio, ours, moved / bw * 1e6, int_mm


def tile_weights(w):
    """[N, bytes] row-major -> [N/16][bytes/64][16][64], as the
    GEMV's tiled-weights option reads it (same size and shape)."""
    n, nbytes = w.shape
    return w.view(n // 16, 16, nbytes // 64, 64).permute(0, 2, 1, 3) \
        .contiguous().view(n, nbytes)


def check_w8a8(y, exact, sx, sw):
    # Exact i32 sums, converted to f32 (2^-24), two f32 products (2 · 2^-24)
    # and the f16 result (2^-11).
    ref = exact.double() * sx.double() * sw.double().t()
    tol = (2.0 ** -11 + 4 * 2.0 ** -24) * ref.abs() + 2.0 ** -24
    return within(y, ref, tol)


def unit_roundoff(dtype):
    return 2.0 ** -11 if dtype == torch.float16 else 2.0 ** -8


def check_output(y, x, deq, out_type, prescaled=False):
    """Prescaled kernels (groups below the K step) round the scale and then
    each weight s (q - z) to the activation type before the product:
    (1 + u)^2 - 1 <= 2.001 u of every term more."""
    xf = x.float()
    ref = xf @ deq.t()
    bound = xf.abs() @ deq.abs().t()
    u_out = unit_roundoff(out_type)
    k = x.shape[1]
    tol = u_out * ref.abs() + 2 * k * 2.0 ** -24 * bound + 2.0 ** -24
    if prescaled:
        tol = tol + 2.001 * unit_roundoff(x.dtype) * bound
    return within(y, ref, tol)


# --- timing -----------------------------------------------------------------

Timing = collections.namedtuple("Timing", "median back_to_back")


def time_calls(calls, runs, warmup=10):
    """Times calls[i % len(calls)]() over `runs` runs, in µs, two ways:
    the median of one event pair around each call (what one call costs on
    its own, the event and launch overhead included), and the time of all
    `runs` calls between one event pair, divided by `runs` (the cost of a
    call in a stream of back-to-back launches, as Marlin's and most
    kernel benchmarks report it). The warm-up makes every call at least
    once (a TMA kernel encodes its tensor maps on a new operand set's
    first call, which would otherwise land between the events)."""
    for i in range(max(warmup, len(calls))):
        calls[i % len(calls)]()
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(runs + 1)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(runs + 1)]
    # Queue everything behind a spin so launch overhead on the host never
    # leaves the GPU idle between the events.
    torch.cuda._sleep(200_000_000)
    for i in range(runs):
        starts[i].record()
        calls[i % len(calls)]()
        ends[i].record()
    torch.cuda._sleep(200_000_000)
    starts[runs].record()
    for i in range(runs):
        calls[i % len(calls)]()
    ends[runs].record()
    torch.cuda.synchronize()
    median = statistics.median(starts[i].elapsed_time(ends[i]) * 1e3
                               for i in range(runs))
    return Timing(median, starts[runs].elapsed_time(ends[runs]) * 1e3 / runs)


def copy_bandwidth():
    """Device-to-device copy bandwidth in bytes/s (read + write)."""
    n = 1 << 30
    a = torch.empty(n, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    t = time_calls([lambda: b.copy_(a)], 20, warmup=3).median
    del a, b
    return 2 * n / (t * 1e-6)


def copies_for(nbytes, l2):
    return max(2, math.ceil(3 * l2 / max(nbytes, 1)))


def load_manifest(directory):
    with open(os.path.join(directory, "kernels.json")) as f:
        return json.load(f)


def parse_case(function):
    family, act, m, n, k = function.split("_")
    return family, act, int(m[1:]), int(n[1:]), int(k[1:])


def run_and_time(kernel, operands, runs, l2):
    """Runs `kernel` once on `operands` (the output last, poisoned first) and
    times it over copies of them larger than 3x L2. Returns the median µs
    and the bytes one call moves."""
    operands[-1].fill_(float("nan"))
    kernel(*operands)
    torch.cuda.synchronize()
    moved = sum(t.numel() * t.element_size() for t in operands)
    sets = [tuple(operands)] + [
        tuple(t.clone() for t in operands)
        for _ in range(copies_for(moved, l2) - 1)]
    return time_calls([lambda a=a: kernel(*a) for a in sets], runs), moved


def bench_w8a8(kernel, m, n, k, runs, l2, bw, gen):
    x, w, sx, sw, exact = make_w8a8_case(m, n, k, gen)
    sx = as_argument(kernel, 2, sx)
    y = torch.empty((m, n), dtype=torch.float16, device="cuda")
    ours, moved = run_and_time(kernel, [x, weight_operand(kernel, w), sx, sw,
                                        y], runs, l2)
    ok, ratio = check_w8a8(y, exact, sx, sw)
    int_mm = time_int_mm(x, w, runs)
    return ok, ratio, ours, moved / bw * 1e6, int_mm


def bench_fp8(kernel, act, m, n, k, runs, l2, bw, gen):
    x, w, sx, sw, exact, bound = make_fp8_case(act, m, n, k, gen)
    sx = as_argument(kernel, 2, sx)
    y = torch.empty((m, n), dtype=torch.float16, device="cuda")
    ours, moved = run_and_time(
        kernel, [x.view(torch.int8), weight_operand(kernel, w.view(torch.int8)),
                 sx, sw, y], runs, l2)
    ok, ratio = check_fp8(y, exact, bound, sx, sw, k)
    try:  # cuBLASLt FP8 (per-tensor scales), where this torch has it
        one = torch.ones((), device="cuda")
        wt = w.t()
        scaled = time_calls([lambda: torch._scaled_mm(
            x, wt, scale_a=one, scale_b=one, out_dtype=torch.float16)], runs)
    except Exception:  # noqa: BLE001 - older or newer signature
        scaled = None
    return ok, ratio, ours, moved / bw * 1e6, scaled


def bench_kernel(kernel, case, runs, l2, bw, gen):
    family, act, m, n, k = case
    x, w, s, z, deq = make_case(family, act, m, n, k, gen)
    # A `_tw` kernel reads W as [N/16][K steps][16 rows][64 bytes] tiles.
    w = weight_operand(kernel, w)
    y = torch.empty((m, n), dtype=TORCH_TYPES[act], device="cuda")
    operands = [x, w, s] + ([] if z is None else [z]) + [y]
    ours, moved = run_and_time(kernel, operands, runs, l2)
    # Groups below the GEMV's K step (128 codes of 4 bits, 64 of 8) are
    # scaled before the product, except on the tiled GEMM.
    _, bits, _, group, _ = family_traits(family)
    prescaled = 0 < group < 512 // bits and \
        not kernel.name.startswith("qopt_wgemm")
    ok, ratio = check_output(y, x, deq, y.dtype, prescaled)
    return ok, ratio, ours, moved / bw * 1e6


def bench_cublas(m, n, k, runs, l2, gen):
    x = torch.randn(m, k, generator=gen, device="cuda").half()
    w = torch.randn(n, k, generator=gen, device="cuda").half()
    sets = [(x, w)] + [(x.clone(), w.clone())
                       for _ in range(copies_for(w.numel() * 2, l2) - 1)]
    t = time_calls([lambda a=a: F.linear(*a) for a in sets], runs)
    del sets
    return t


def matches(name, globs):
    """Whether `name` matches one of the comma-separated `globs`."""
    return any(fnmatch.fnmatch(name, g) for g in globs.split(",") if g)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default="build/gpu-bench")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json")
    parser.add_argument("--only", help="run just the cases whose name "
                        "contains this (no baselines, no sweep): for ncu")
    parser.add_argument("--tables", default="table*",
                        help="the table's builds: directories matching one "
                        "of these comma-separated globs (default table*)")
    parser.add_argument("--skip", default="",
                        help="leave out table directories matching one of "
                        "these comma-separated globs (run.sh runs kernels "
                        "not yet checked on a device in processes of their "
                        "own, a family each, under a timeout)")
    parser.add_argument("--skip-kernels", default="",
                        help="leave out the rows of these comma-separated "
                        "kernel names (run.sh: the rows a process that a "
                        "hang ended had run, the hung one included)")
    parser.add_argument("--no-sweeps", action="store_true",
                        help="time the table only, not the sweep-* builds")
    parser.add_argument("--row-timeout", type=float, default=0,
                        help="seconds a table row may take: past them, the "
                        "process prints where it was and exits (a kernel "
                        "that hangs costs this, not the caller's whole "
                        "timeout); 0: none")
    args = parser.parse_args()

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    torch.zeros(1, device="cuda")
    props = torch.cuda.get_device_properties(0)
    l2 = getattr(props, "L2_cache_size", 50 << 20)
    driver = Driver()
    gen = torch.Generator(device="cuda")
    gen.manual_seed(0)
    bw = copy_bandwidth()
    print(f"device: {props.name} ({props.multi_processor_count} SMs, "
          f"L2 {l2 >> 20} MiB), torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}")
    # What the timing method itself costs: an empty kernel between events.
    empty = time_calls([lambda: torch.cuda._sleep(0)], args.runs)
    print(f"measured copy bandwidth: {bw / 1e9:.0f} GB/s; "
          f"median of {args.runs} runs, operands rotated over > 3x L2; "
          f"an empty kernel measures {empty.median:.2f} us alone, "
          f"{empty.back_to_back:.2f} us back to back\n")

    results = {"device": props.name, "bandwidth_GBps": bw / 1e9,
               "empty_kernel_us": empty.median,
               "empty_kernel_b2b_us": empty.back_to_back,
               "rows": [], "sweep": []}
    failures = 0

    def save():
        """The JSON so far (after every row: a timeout keeps what ran);
        a ratio that is not finite is written as null."""
        if not args.json:
            return
        def finite(row):
            return {key: (None if isinstance(v, float) and not math.isfinite(v)
                          else v) for key, v in row.items()}
        with open(args.json, "w") as f:
            json.dump(dict(results, rows=[finite(r) for r in results["rows"]],
                           sweep=[finite(r) for r in results["sweep"]]),
                      f, indent=1)

    # The table's kernels: table/ (GEMVs, tiled weights) and table-gemm/.
    tables = [(os.path.join(args.kernels, d),
               load_manifest(os.path.join(args.kernels, d)))
              for d in sorted(os.listdir(args.kernels))
              if (d == "table" or d.startswith("table-"))
              and matches(d, args.tables) and not matches(d, args.skip)]
    cublas = {}
    header = (f"{'case':<40} {'kernel us':>9} {'cuBLAS fp16 us':>14} "
              f"{'speedup':>7} {'floor us':>8} {'of floor':>8} "
              f"{'b2b us':>8} {'cuBLAS':>8} {'speedup':>7} {'of floor':>8} "
              f"{'err/tol':>7} check")
    print("median of single calls | back to back (b2b): the stream of "
          f"{args.runs} calls between two events / {args.runs}")
    print(header)
    print("-" * len(header))
    table_launches = [(directory, manifest, launch)
                      for directory, manifest in tables
                      for launch in manifest["launches"]]
    for directory, manifest, launch in table_launches:
        case = parse_case(launch["function"])
        family, act, m, n, k = case
        if args.only and args.only not in launch["function"]:
            continue
        if launch["kernel"] in args.skip_kernels.split(","):
            continue
        if args.row_timeout:
            # A hung kernel blocks the next synchronisation forever; the
            # watchdog (a C thread: it needs no GIL) names the row, dumps
            # the stack and exits.
            print(f"(row: {launch['kernel']} [{os.path.basename(directory)}]"
                  f", watchdog {args.row_timeout:g} s)", file=sys.stderr,
                  flush=True)
            faulthandler.dump_traceback_later(args.row_timeout, exit=True)
        kernel = Kernel(driver, directory, manifest, launch)
        int_mm = None
        baseline8 = "torch._int_mm int8"
        if family == "w8a8":
            ok, ratio, ours, floor, int_mm = bench_w8a8(kernel, m, n, k,
                                                        args.runs, l2, bw, gen)
        elif family in ("w8a8u8", "w8a8z"):
            ok, ratio, ours, floor, int_mm = bench_w8a8_zero(
                kernel, family == "w8a8u8", m, n, k, args.runs, l2, bw, gen)
        elif family == "w8a8fp8":
            baseline8 = "torch._scaled_mm fp8"
            ok, ratio, ours, floor, int_mm = bench_fp8(kernel, act, m, n, k,
                                                       args.runs, l2, bw, gen)
        else:
            ok, ratio, ours, floor = bench_kernel(kernel, case, args.runs, l2,
                                                  bw, gen)
        if args.only:
            failures += not ok
            print(launch["function"], ok, ratio, ours.median,
                  ours.back_to_back)
            print_mismatches()
            continue
        if (m, n, k) not in cublas:
            cublas[(m, n, k)] = bench_cublas(m, n, k, args.runs, l2, gen)
        base = cublas[(m, n, k)]
        failures += not ok
        ops = 2 * m * n * k / 1e6
        extra = "" if int_mm is None else \
            f"  ({baseline8}: {int_mm.median:.2f} us, " \
            f"{ops / int_mm.median:.0f} TOPS; " \
            f"ours {ops / ours.median:.0f} TOPS)"
        # Builds other than the table's own name their variant.
        label = launch["function"]
        variant = os.path.basename(directory)
        if variant not in ("table", "table-gemm"):
            label += f" [{variant[len('table-'):]}]"
        print(f"{label:<40} {ours.median:9.2f} "
              f"{base.median:14.2f} {base.median / ours.median:6.2f}x "
              f"{floor:8.2f} {floor / ours.median:7.0%} "
              f"{ours.back_to_back:8.2f} {base.back_to_back:8.2f} "
              f"{base.back_to_back / ours.back_to_back:6.2f}x "
              f"{floor / ours.back_to_back:7.0%} "
              f"{ratio:7.3f} {'ok' if ok else 'FAIL'}{extra}")
        print_mismatches()
        results["rows"].append(dict(case=launch["function"],
                                    variant=variant,
                                    kernel=launch["kernel"],
                                    us=ours.median,
                                    b2b_us=ours.back_to_back,
                                    cublas_us=base.median,
                                    cublas_b2b_us=base.back_to_back,
                                    floor_us=floor,
                                    baseline8=int_mm and baseline8,
                                    baseline8_us=int_mm and int_mm.median,
                                    err_over_tol=ratio, ok=ok))
        save()
        faulthandler.cancel_dump_traceback_later()
    faulthandler.cancel_dump_traceback_later()
    if args.only:
        return 1 if failures else 0

    if not args.no_sweeps:
        print("\nTiling sweeps, w4a16 f16: GEMV at M=1 (split-K S, P pipeline "
              "stages), GEMM (R rows of X, W warps per block)")
    for entry in sorted(os.listdir(args.kernels)):
        if args.no_sweeps or not entry.startswith("sweep-"):
            continue
        directory = os.path.join(args.kernels, entry)
        manifest = load_manifest(directory)
        for launch in manifest["launches"]:
            kernel = Kernel(driver, directory, manifest, launch)
            ok, ratio, ours, floor = bench_kernel(
                kernel, parse_case(launch["function"]), args.runs, l2, bw,
                gen)
            failures += not ok
            print(f"  {entry:<16} {launch['function']:<26} "
                  f"{ours.median:8.2f} us  {floor / ours.median:5.0%} of "
                  f"floor; b2b {ours.back_to_back:8.2f} us "
                  f"{floor / ours.back_to_back:5.0%}  err/tol {ratio:.3f} "
                  f"{'ok' if ok else 'FAIL'}")
            print_mismatches()
            results["sweep"].append(dict(variant=entry,
                                         case=launch["function"],
                                         us=ours.median,
                                         b2b_us=ours.back_to_back,
                                         floor_us=floor, err_over_tol=ratio,
                                         ok=ok))
            save()

    save()
    print(f"\n{failures} correctness failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
