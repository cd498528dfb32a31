//===- KernelBuilder.h - Shared pieces of the qopt GPU kernel generators --===//
//
// Helpers the kernel families share: index arithmetic, register fragments
// of mma.sync, and the in-register dequantization of packed integer codes.
//
// Dequantization without conversions. A 32-bit word holding C = 32 / bits
// codes (bits = 4 or 8) is turned into C / 2 pairs of 16-bit floats with
// integer operations and one subtraction per pair:
//
//   pair i = ((word >> (i * bits)) & M) | MAGIC        M = 2^bits - 1 in
//          = (MAGIC_VALUE + code_i, MAGIC_VALUE + code_{i + C/2})    each half
//   value  = pair - (MAGIC_VALUE + offset)        (or - (MAGIC_VALUE + offset
//                                                   + z): zero points)
//
// MAGIC is the bit pattern of a power of two whose last mantissa bit is
// worth 1 (1024 = 0x6400 in f16, 128 = 0x4300 in bf16): OR-ing a code into
// its mantissa adds the code exactly. Signed codes are first flipped to
// offset binary (XOR with the sign bits, offset 2^(bits-1)). The pairs hold
// codes (i, i + C/2), not neighbours; kernels permute the matching
// activations the same way, which costs nothing because a dot product does
// not depend on the order of its terms.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_KERNELBUILDER_H
#define QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_KERNELBUILDER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::qopt::gpu_kernels {

/// Index and 32-bit integer arithmetic at one location, so kernel bodies
/// read like the formulas in their comments.
class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location location() { return loc; }

  Value index(int64_t v);
  Value i32(int64_t v);
  Value add(Value a, Value c);
  Value mul(Value a, Value c);
  Value div(Value a, Value c); // unsigned, index
  Value rem(Value a, Value c); // unsigned, index
  Value add(Value a, int64_t c) { return add(a, index(c)); }
  Value mul(Value a, int64_t c) { return mul(a, index(c)); }
  Value div(Value a, int64_t c) { return div(a, index(c)); }
  Value rem(Value a, int64_t c) { return rem(a, index(c)); }

  /// A `vector<size x elemType>` splat of a float constant.
  Value floatSplat(Type elemType, int64_t size, double v);

  /// Loads `vector<size x elem>` at `indices` with the given byte alignment
  /// (a vectorised global load: 16 bytes become one ld.global.v4.u32).
  Value loadVector(Value memref, ValueRange indices, int64_t size,
                   int64_t alignment);

  /// Stores the vector `value` at `indices`, which the caller guarantees to
  /// be aligned to the vector's size: one store instruction (a pair of f16
  /// is one st.global.b32, of f32 one st.global.v2.f32).
  void storeVector(Value value, Value memref, ValueRange indices);

  /// Inline PTX `ptx` without side effects, with GCC-style `constraints`;
  /// one result of `resultType` (a literal struct for several registers).
  Value inlinePtx(Type resultType, ValueRange operands, StringRef ptx,
                  StringRef constraints);

  /// 16 bytes of a global, read-only, statically strided `memref` at
  /// `indices`, as vector<4xi32>, loaded with
  /// ld.global.nc.L1::no_allocate.L2::256B: streamed past L1, and each L2
  /// miss fetching 256 bytes from DRAM (for data read once, in order).
  Value loadStreaming16(Value buffer, ValueRange indices);

  /// Elements `positions` of a 1-D vector, as a new 1-D vector.
  Value shuffle(Value v, ArrayRef<int64_t> positions);

  /// Stacks 1-D vectors of equal type into a 2-D vector (one row each):
  /// the register fragment type of nvgpu.mma.sync.
  Value stackRows(ArrayRef<Value> rows);

private:
  OpBuilder &b;
  Location loc;
};

/// Creates the kernel `name` (a gpu.func with `arguments`, the shared-memory
/// buffers `workgroup` and known block and grid sizes; an empty `grid`:
/// the launch chooses it) at the insertion
/// point and moves the insertion point to the start of its body. The last
/// argument is the kernel's output, the only buffer it writes; every
/// argument is marked noalias and all but the last readonly.
gpu::GPUFuncOp createKernel(OpBuilder &b, Location loc, StringRef name,
                            TypeRange arguments, TypeRange workgroup,
                            ArrayRef<int64_t> block, ArrayRef<int64_t> grid);

/// `memref<shape x elem>` in shared (workgroup) memory.
MemRefType getSharedMemRefType(ArrayRef<int64_t> shape, Type elem);

/// A thread's place: in the block, in its warp, and in mma.sync fragments
/// (g = lane / 4 picks a row, t = lane % 4 a pair of columns).
struct ThreadIds {
  Value tid, lane, warp, g, t;
};
ThreadIds getThreadIds(KernelBuilder &kb);

/// Where a block and a warp of a tiled GEMM start: the block's first output
/// row and column (blockIdx.y · blockM, blockIdx.x · blockN) and the warp's
/// offsets inside the block (warps numbered along N first).
struct TileOrigin {
  Value m0, n0, warpM, warpN;
};
TileOrigin getTileOrigin(KernelBuilder &kb, Value warp, int64_t blockM,
                         int64_t blockN, int64_t warpsN, int64_t warpRows,
                         int64_t warpCols);

/// ldmatrix.x4 of a 16-row A fragment from `tile[stage]`: matrices rows
/// 0-7 | 8-15 of row0 × the 16 bytes at col0 | col0 + colsPerMatrix, in
/// the register order of mma.sync's A operand.
Value loadMatrixA(KernelBuilder &kb, Value tile, Value stage, Value lane,
                  Value row0, Value col0, int64_t colsPerMatrix,
                  VectorType type);

/// The values of `load()` where `cond` holds, poison of the same types where
/// it does not: a predicated prefetch into registers (`like` gives the
/// types).
SmallVector<Value> loadIf(KernelBuilder &kb, Value cond, TypeRange like,
                          function_ref<SmallVector<Value>()> load);

/// Starts the cp.async copies of a `rows` × `rowElems` tile of `src`
/// (2-D, from [row0, col0]) into `dst[stage]`, in chunks of `chunkElems`
/// elements (16 bytes) spread over `threads` threads (chunk tid + i ·
/// threads; threads without a chunk copy nothing). Where `valid` is false,
/// and for source rows at or past `rowLimit` (if given), the chunk is
/// zero-filled and its source clamped into bounds.
void copyTileAsync(KernelBuilder &kb, Value dst, Value stage, Value src,
                   Value row0, Value col0, int64_t rows, int64_t rowElems,
                   int64_t chunkElems, Value tid, int64_t threads, Value valid,
                   std::optional<int64_t> rowLimit = std::nullopt);

/// The K loop of a cp.async pipeline of `stages` stages over `steps` steps:
/// `issue(step, valid)` starts the copies of a step (nothing where !valid);
/// the loop commits one group per step, keeps stages - 1 steps in flight,
/// waits for the current one and calls `body(step, stage, carried)`, whose
/// results are carried to the next step. With `blockShared`, barriers make
/// the copies visible to the whole block and protect the stage from being
/// overwritten while read.
scf::ForOp buildPipelinedLoop(
    KernelBuilder &kb, int64_t steps, int64_t stages, bool blockShared,
    ValueRange init, function_ref<void(Value step, Value valid)> issue,
    function_ref<SmallVector<Value>(Value step, Value stage, ValueRange)>
        body);

/// The operand registers of an mma.sync fragment (a 2-D vector, one row
/// per 32-bit register) as i32 words, for nvvm.mma.sync and inline PTX.
SmallVector<Value> getFragmentWords(KernelBuilder &kb, Value fragment);

/// The four scalars of a 2 x 2 accumulator fragment, row by row.
SmallVector<Value> getAccumulatorElements(KernelBuilder &kb, Value acc);

/// The 2 x 2 accumulator fragment (vector<2x2xT>) of an mma's result
/// struct of four T.
Value getAccumulatorFragment(KernelBuilder &kb, Value result, Type elem);

/// D = A·B + C with mma.sync.m16n8k16 and f32 accumulators: `a` is
/// vector<4x2xT>, `b` vector<2x2xT>, `c` vector<2x2xf32> (T = f16 or bf16),
/// in the register order of the PTX fragments. f16 goes through
/// nvgpu.mma.sync; bf16, which nvgpu does not lower, through nvvm.mma.sync.
Value mmaSync16816(KernelBuilder &kb, Value a, Value b, Value c);

/// How packed integer codes are turned into 16-bit floats in registers.
struct CodeFormat {
  unsigned bits;      // 4 or 8
  bool isSigned;      // two's complement codes (i4, i8) or unsigned (ui4, ui8)
  FloatType halfType; // f16 or bf16: the mma operand type
  FloatType fp8 = {}; // f8E4M3FN / f8E5M2 codes (bits = 8), or null

  /// FP8 codes become f16 by moving their bits into place (E5M2 is the top
  /// byte of an f16; E4M3's exponent lands 8 below its bias): the values
  /// are the codes' divided by this power of two, which the scales take.
  double fp8Factor() const;

  unsigned codesPerWord() const { return 32 / bits; }
  /// 2^(bits-1) for signed codes (they are stored offset by it after the
  /// XOR), 0 for unsigned ones.
  int64_t offset() const { return isSigned ? int64_t(1) << (bits - 1) : 0; }
  /// The value of the magic constant the codes are OR-ed into.
  double magicValue() const;
  /// Whether the half type can hold MAGIC + every code exactly.
  bool isExact() const;
};

/// What dequantization subtracts from MAGIC + stored code, as a halfType
/// scalar, for a weight group with integer zero point `zero` (an i32):
/// MAGIC + offset + z, so that a pair becomes (code - z). Built from the
/// bit pattern with one integer add (MAGIC's bits plus offset + z, which
/// fit its mantissa), no conversion instruction.
Value getZeroBias(KernelBuilder &kb, const CodeFormat &format, Value zero);

/// Splits one 32-bit word (`vector<1xi32>`) of codes into its
/// codesPerWord()/2 pairs (`vector<2 x halfType>`): pair i holds the values
/// (code - offset) of codes i and i + codesPerWord()/2, or (code - z) with
/// `zeroBias` (getZeroBias) given; FP8 codes as their value /
/// fp8Factor(). No per-element conversion instruction is
/// emitted: per pair one LOP3 (mask, magic and sign flip together) and one
/// HADD2 or HFMA2, plus a shift where a code must move down.
SmallVector<Value> dequantizeWord(KernelBuilder &kb, const CodeFormat &format,
                                  Value word, Value zeroBias = {});

/// One pair of neighbouring codes as `vector<2 x halfType>` (code - offset,
/// code - z with `zeroBias`, or an FP8 value / fp8Factor()): `spread` is an i32 holding the first code
/// in its lowest bits and the second from bit 16 (other bits are ignored).
Value dequantizePair(KernelBuilder &kb, const CodeFormat &format,
                     Value spread, Value zeroBias = {});

/// The A fragments (vector<4x2 x halfType>) that word `word` of the
/// 16-byte weight chunks `rowG` and `rowG8` (vector<4xi32>, weight rows g
/// and g + 8) provides: codesPerWord() / 4 mma.sync steps, the code pairs
/// of step s at K positions (2t, 2t + 1) and (2t + 8, 2t + 9). With
/// `zeroBiases` (rows g and g + 8), codes are taken relative to their zero
/// points.
///
/// With `scales` (rows g and g + 8, halfType scalars) the values are
/// multiplied by them before the product: scale groups smaller than a
/// K step, where one mma.sync spans several groups (the f32 scaling after
/// the product cannot apply then); each product is rounded to the half
/// type (on top of the scale's own rounding to it).
SmallVector<Value> getWeightFragments(KernelBuilder &kb,
                                      const CodeFormat &format, Value rowG,
                                      Value rowG8, int64_t word,
                                      ArrayRef<Value> zeroBiases = {},
                                      ArrayRef<Value> scales = {});

/// The B fragment of one mma.sync step from 4 activation values in the
/// order of the code pairs: (v0, v1) at K positions (2t, 2t + 1), (v2, v3)
/// at (2t + 8, 2t + 9).
Value getActivationFragment(KernelBuilder &kb, Value fourValues);

/// acc + (scale of row g, scale of row g + 8) · Σ parts, on 16 × 8 f32
/// fragments (vector<2x2xf32>): how a K step's sums (in one or more
/// independent chains), all in one scale group, enter the accumulator.
Value scaleAndAccumulate(KernelBuilder &kb, Value acc, ArrayRef<Value> parts,
                         ArrayRef<Value> rowScales);

} // namespace mlir::qopt::gpu_kernels

#endif // QUANT_OPT_LIB_CONVERSION_QOPTTOGPU_KERNELBUILDER_H
