//===- Passes.td - qopt transformation passes --------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApplyCalibration : Pass<"qopt-apply-calibration", "::mlir::ModuleOp"> {
  let summary = "Static activation quantization from calibrated ranges";
  let description = [{
    Turns each `qopt.matmul` whose weight is `i8` (symmetric) or FP8 and
    whose input is f32 into a product of quantized activations: the input
    is quantized with a per-tensor scale chosen by `calibrator` from the
    statistics that the calibration file holds for it (`minmax`:
    max |x|; `percentile`: the `percentile`-th percentile of |x|; `mse`:
    the clipping threshold minimising the quantization MSE; `entropy`:
    TensorRT's KL threshold), into the weight's code type (`i8` with the
    narrow range `[-127, 127]`, or the weight's FP8 format), and the
    product becomes `qopt.matmul ... input_scale(%sx)` (W8A8 with exact
    integer sums, or FP8 × FP8). Run it after
    `qopt-weight-ptq="storage=i8 group-size=0"` (or `storage=f8E4M3FN`).

    ```mlir
    %y = qopt.matmul %x, %w, %sw {acc_type = f32} : (tensor<16x64xf32>, tensor<32x64xi8>, ...) -> ...
    // becomes
    %sx = arith.constant dense<0.0315> : tensor<f32>
    %xq = qopt.quantize %x, %sx {narrow_range} : (tensor<16x64xf32>, tensor<f32>) -> tensor<16x64xi8>
    %y = qopt.matmul %xq, %w, %sw input_scale(%sx) {acc_type = f32} : ...
    ```

    `storage` chooses the activation codes: by default those of the weight
    (`i8`, or the weight's FP8 format); `f8E4M3FN` / `f8E5M2` pick an FP8
    format for FP8-weight products (E5M2 activations with E4M3 weights
    trade precision for range); `ui8` gives asymmetric activations for
    `i8`-weight products. A product whose weight cannot pair with the
    chosen storage is left as it is with a warning.

    With `storage=ui8` (calibrator `minmax` only: the
    histograms hold |x| and so lose the sign) the input of an `i8`-weight
    product is quantized to `ui8` over its whole observed range
    `[min(lo, 0), max(hi, 0)]`, `s = (b − a) / 255`, with a zero point —
    the choice for one-sided activations such as post-ReLU/GELU outputs,
    which use 8 bits where the symmetric scheme uses 7:

    ```mlir
    %sx = arith.constant dense<0.0239> : tensor<f32>
    %zx = arith.constant dense<17> : tensor<ui8>
    %xq = qopt.quantize %x, %sx, %zx : (tensor<16x64xf32>, tensor<f32>, tensor<ui8>) -> tensor<16x64xui8>
    %y = qopt.matmul %xq, %w, %sw input_scale(%sx, %zx) {acc_type = f32} : ...
    ```


    A product without statistics in the file, or whose weight has a zero
    point, is left as it is with a warning; an unreadable file fails the
    pass before anything is rewritten.
  }];
  let options = [
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration file (stats=minmax for minmax, histogram for the "
           "others)">,
    Option<"calibrator", "calibrator", "std::string",
           /*default=*/"\"minmax\"",
           "minmax, percentile, mse or entropy">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "Percentile for calibrator=percentile">,
    Option<"storage", "storage", "std::string", /*default=*/"\"\"",
           "Activation codes: i8, ui8 (asymmetric, calibrator=minmax), "
           "f8E4M3FN or f8E5M2; default: the weight's">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def DynamicQuant : Pass<"qopt-dynamic-quant"> {
  let summary = "Dynamic per-token activation quantization (no calibration)";
  let description = [{
    Like `qopt-apply-calibration`, but the activation scales are computed at
    run time, one per row (token) of the input: `s = max_k |x[k]| / qmax`
    (127 for `i8` weights, the FP8 maximum for FP8 weights; an all-zero
    row gets s = 1). Each `qopt.matmul` with an `i8` (symmetric) or FP8
    weight and an f32 input becomes

    ```mlir
    %amax = linalg.generic ... max(|x|) over the last dimension -> tensor<16x1xf32>
    %sx = linalg.generic ... amax / 127 (1 where amax is 0)
    %xq = qopt.quantize %x, %sx {narrow_range} : (tensor<16x64xf32>, tensor<16x1xf32>) -> tensor<16x64xi8>
    %y = qopt.matmul %xq, %w, %sw input_scale(%sx) {acc_type = f32} : ...
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def FoldWeightLayout : Pass<"qopt-fold-weight-layout"> {
  let summary = "Read constant weights through contraction indexing maps";
  let description = [{
    Frontends rarely hand a contraction its weight directly: torch-mlir
    lowers `nn.Linear` to a `linalg.transpose` of the [N, K] weight and, for
    inputs of rank 3, a broadcast of it to a batched weight of
    `linalg.batch_matmul`. This pass folds such views of constants — any
    chain of `linalg.transpose`, `linalg.broadcast` and all-parallel
    `linalg.generic` copies whose output map is a permutation — into the
    indexing map of the contraction that reads them (generalized to
    `linalg.generic`), so that the contraction reads the constant itself.
    The weight is then neither copied nor replicated at run time, and
    `qopt-quantize-weights` sees every linear layer. Views of non-constant
    values are left alone (folding them would recompute them inside the
    reduction).

    Example:

    ```mlir
    %t = linalg.transpose ins(%w : tensor<384x384xf32>) outs(...) permutation = [1, 0]
    %b = linalg.generic {indexing_maps = [(d0, d1, d2) -> (d1, d2), (d0, d1, d2) -> (d0, d1, d2)], ...}
           ins(%t) outs(...) { linalg.yield %in }  -> tensor<16x384x384xf32>
    %y = linalg.batch_matmul ins(%x, %b : tensor<16x32x384xf32>, tensor<16x384x384xf32>) ...
    // becomes
    %y = linalg.generic {indexing_maps = [(b, m, n, k) -> (b, m, k),
                                          (b, m, n, k) -> (n, k),
                                          (b, m, n, k) -> (b, m, n)], ...}
           ins(%x, %w : tensor<16x32x384xf32>, tensor<384x384xf32>) ...
    ```
  }];
}

def FuseDequantMatmul : Pass<"qopt-fuse-dequant-matmul"> {
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  let summary = "Fuse qopt.dequantize of a weight into its product as qopt.matmul";
  let description = [{
    Rewrites a contraction (`linalg.matmul`, `linalg.matvec`,
    `linalg.vecmat`, `linalg.generic` contractions) whose weight operand is
    `qopt.dequantize` of a 2-D [N, K] code tensor, read directly or through
    the `linalg.transpose` and `linalg.broadcast` (to a batched weight of
    `linalg.batch_matmul`) that frontends and `qopt-quantize-weights` put
    in between, into `qopt.matmul`. Packed 4-bit codes (`qopt.unpack` of
    bytes) become the packed weight operand. The other operand must hold K
    innermost and the result N innermost, and the product must start from
    zeros (`linalg.fill` with 0); other products are left as they are.

    Example:

    ```mlir
    %u = qopt.unpack %p : tensor<64x128xi8> -> tensor<64x256xi4>
    %d = qopt.dequantize %u, %s : (tensor<64x256xi4>, tensor<64x2xf32>) -> tensor<64x256xf32>
    %t = linalg.transpose ins(%d : ...) outs(...) permutation = [1, 0]
    %y = linalg.matmul ins(%x, %t : tensor<4x256xf32>, tensor<256x64xf32>) outs(%zero : ...)
    // becomes
    %y = qopt.matmul %x, %p, %s {acc_type = f32, packed = i4}
        : (tensor<4x256xf32>, tensor<64x128xi8>, tensor<64x2xf32>) -> tensor<4x64xf32>
    ```
  }];
}

def SmoothQuant : Pass<"qopt-smooth-quant", "::mlir::ModuleOp"> {
  let summary = "Migrate activation outliers into the weights (SmoothQuant)";
  let description = [{
    For every matrix product with a constant weight whose input has
    per-channel maxima in the calibration file (`channel_absmax`, recorded
    by `qopt-insert-observers`), computes the SmoothQuant factors
    `s_j = max|X_j|^alpha / max|W_j|^(1 - alpha)` per input channel j
    (Xiao et al., 2023; channels where either maximum is 0 keep s = 1),
    multiplies the weight's input channels by s and divides the product's
    input by s. Where the input is the only use of a previous linear layer
    (`linalg.matmul` of a constant f32 weight into zeros), 1/s is folded
    into that layer's output channels (its weight columns); otherwise an
    explicit elementwise scale goes just before the product. The product's result is unchanged (up to float rounding) while the
    activation's channel ranges flatten, which is what per-tensor
    activation quantization (W8A8) needs.

    Products without statistics are left alone; a calibration file that
    cannot be read, of another version, or with statistics of the wrong
    width fails the pass before anything is rewritten.

    ```mlir
    %y = linalg.matmul ins(%x, %w : tensor<16x64xf32>, tensor<64x32xf32>) ...
    // becomes
    %xs = linalg.generic ... (%x, %inv_s) { x * inv_s }    // x / s
    %y = linalg.matmul ins(%xs, %w_s : ...) ...            // %w_s = diag(s) W
    ```
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration file with channel_absmax of the product inputs">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def StorageReport : Pass<"qopt-storage-report", "::mlir::ModuleOp"> {
  let summary = "Print the storage of every weight: codes, scales, zero points";
  let description = [{
    An analysis pass (the IR is unchanged) that prints one row per matrix
    product weight: its location name, logical shape [N, K], storage type,
    granularity, exact bytes of codes, scales and zero points as they are in
    the IR, and bytes per parameter (the seed's k/8 + (scale bytes + zero
    bytes) / group); then the totals. Weights of `qopt.matmul` and of
    products still reading `qopt.dequantize` or plain float constants are
    all counted. The table goes to stderr, or to `file`.

    Example row:

    ```
    layer0.q_proj   4096x4096  i4  group 128  8388608  524288  0  0.531250
    ```
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"\"",
           "Write the report here instead of stderr">,
  ];
}

def InsertObservers : Pass<"qopt-insert-observers", "::mlir::ModuleOp"> {
  let summary = "Instrument the inputs of matrix products with qopt.observe";
  let description = [{
    Inserts one `qopt.observe` for every distinct non-constant input of a
    matrix product (`linalg` contractions, `qopt.matmul`), named after the
    first product that reads it (`<location name>.input`, with `.lhs` /
    `.rhs` when both inputs are activations, and a numeric suffix if a name
    repeats). Running the instrumented module with
    `quant-run --calibration-out` records the statistics chosen by `stats`
    (any of `minmax`, `histogram`, `channel_absmax`, `channel_absmean`,
    `hessian`). `match` restricts the products to those whose location name
    matches a regex; `values` additionally observes the f32 tensor results
    of any op whose location name matches (`<name>.result<i>`).

    ```mlir
    %y = linalg.matmul ins(%x, %w : ...) ... loc("layer0.q_proj")
    // becomes
    %o = qopt.observe %x {name = "layer0.q_proj.input", stats = [...]} : ...
    %y = linalg.matmul ins(%o, %w : ...) ...
    ```
  }];
  let options = [
    Option<"stats", "stats", "std::string",
           /*default=*/"\"minmax,histogram,channel_absmax,channel_absmean\"",
           "Comma-separated statistics to record">,
    Option<"match", "match", "std::string", /*default=*/"\"\"",
           "Only products whose location name matches this regex">,
    Option<"values", "values", "std::string", /*default=*/"\"\"",
           "Also observe the f32 tensor results of ops whose location name "
           "matches this regex (named <name>.result<i>)">,
  ];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
}

def QuantizeWeights : Pass<"qopt-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Quantize the constant weights of matrix products";
  let description = [{
    Finds matrix products whose weight operand is a constant (`arith.constant`
    with dense elements or a `dense_resource` blob): `linalg.matmul` (K×N
    weights, or N×K through `indexing_maps`), `linalg.batch_matmul`,
    `linalg.matvec`, `linalg.vecmat` and `linalg.generic` contractions of the
    same shape. Each weight is quantized with round-to-nearest (the
    numerics library) per output channel (`group-size=0`) or per group of
    `group-size` input channels, and stored output-channel-major ([N, K],
    like `nn.Linear`; 4-bit codes packed two per byte along K). The product
    then reads `qopt.dequantize` of the codes (through `qopt.unpack` and a
    `linalg.transpose` back to the original layout where needed), which
    `qopt-fuse-dequant-matmul` turns into `qopt.matmul`.

    Symmetric signed storage uses the narrow range and `s = max|w| / qmax`
    per group; unsigned storage (`ui4`) is always asymmetric. With
    `method=gptq calibration=FILE` each 2-D weight is quantized with GPTQ
    using the Hessian that a calibration run recorded for its product's
    input (observer names follow `qopt-insert-observers`). With
    `method=awq` it searches AWQ's per-channel scales from the recorded
    mean |x| and Hessian, quantizes W * diag(s) and makes the product read
    x / s: folded into the previous linear layer's output channels (its
    weight columns, or its dequantization scales if it was quantized too)
    when x is that layer's only use, else through an explicit elementwise
    scale. A missing, mismatched or
    non-finite statistic fails the pass before anything is rewritten. Weights whose
    K is not a multiple of the group size (or odd, for 4-bit packing) are
    left as they are with a warning.

    Example (`storage=i4 group-size=128`):

    ```mlir
    %w = arith.constant dense<...> : tensor<256x64xf32>   // K x N
    %y = linalg.matmul ins(%x, %w : tensor<4x256xf32>, tensor<256x64xf32>) ...
    // becomes
    %p = arith.constant dense<"0x..."> : tensor<64x128xi8>
    %s = arith.constant dense<...> : tensor<64x2xf32>
    %q = qopt.unpack %p : tensor<64x128xi8> -> tensor<64x256xi4>
    %d = qopt.dequantize %q, %s {narrow_range} : (...) -> tensor<64x256xf32>
    %t = linalg.transpose ins(%d : tensor<64x256xf32>) ... permutation = [1, 0]
    %y = linalg.matmul ins(%x, %t : ...) ...
    ```
  }];
  let options = [
    Option<"storage", "storage", "std::string", /*default=*/"\"i4\"",
           "Storage type: i8, i4, ui4, f8E4M3FN or f8E5M2">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels per scale (0: one scale per output channel)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric (zero point 0) parameters for signed storage">,
    Option<"method", "method", "std::string", /*default=*/"\"rtn\"",
           "rtn, or gptq / awq with calibration=FILE">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration file with the Hessians of the product inputs "
           "(quant-run --calibration-out after qopt-insert-observers with "
           "stats=hessian)">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "GPTQ: process columns by decreasing Hessian diagonal">,
    Option<"skip", "skip", "std::string", /*default=*/"\"\"",
           "Leave products whose location name matches this regex">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"0",
           "Leave weights with fewer elements">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::qopt::QOptDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ReturnProducts : Pass<"qopt-return-products", "::mlir::ModuleOp"> {
  let summary = "Return the outputs of weight products as extra results";
  let description = [{
    Appends the result of every matrix product with a weight — a
    `qopt.matmul`, or a `linalg` contraction whose other operand is a
    constant or a `qopt.dequantize` (through a `linalg.transpose`) — to the
    results of its public function, in program order, and lists their
    location names in the function attribute `qopt.returned_products`.
    Running a float model and its quantized version instrumented this way
    on the same inputs gives the error of every layer's output
    (`quant_opt.report`). `match` keeps the products whose location name
    matches a regex. Functions with several blocks are left alone.

    Example:

    ```mlir
    func.func @f(%x: tensor<4x64xf32>) -> tensor<4x32xf32> {
      %y = qopt.matmul %x, %w, %s ... loc("fc1")
      ...
      return %z : tensor<4x32xf32>
    }
    // becomes
    func.func @f(%x: tensor<4x64xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>)
        attributes {qopt.returned_products = ["fc1"]} {
      ...
      return %z, %y : tensor<4x32xf32>, tensor<4x32xf32>
    }
    ```
  }];
  let options = [
    Option<"match", "match", "std::string", /*default=*/"\"\"",
           "Only products whose location name matches this regex">,
  ];
}

def RecordSignatures : Pass<"qopt-record-signatures", "::mlir::ModuleOp"> {
  let summary = "Record each public function's tensor signature for runners";
  let description = [{
    Attaches `qopt.signature = <function type>` to every public `func.func`
    with a body, and `qopt.out_params` when the pipeline will return results
    through caller-allocated buffers (option `out-params`). The attribute survives the lowering to the LLVM dialect,
    where memref descriptors no longer say their element type, so that
    `quant-run` (and any host program) can call a lowered module with the
    right buffers. `qopt-cpu-pipeline` runs it first.

    It also makes the tensor arguments of those functions read-only for
    bufferization (`bufferization.writable = false`, also over an explicit
    `true`): the buffers belong to the caller (a NumPy array handed to
    `quant_opt`, possibly read-only; a host program's input), and a function
    that updates an argument tensor (`tensor.insert` into it) must write
    into a copy, not into the caller's data. With `out-params`, a tensor
    returned more than once is returned again as a copy
    (`bufferization.alloc_tensor() copy(...)`): each result is a buffer of
    the caller's own.

    Example:

    ```mlir
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi8>
    // becomes
    func.func @main(%x: tensor<4xf32> {bufferization.writable = false})
        -> tensor<4xi8>
        attributes {qopt.out_params, qopt.signature = (tensor<4xf32>) -> tensor<4xi8>}
    ```
  }];
  let dependentDialects = [
    "::mlir::bufferization::BufferizationDialect"
  ];
  let options = [
    Option<"outParams", "out-params", "bool", /*default=*/"true",
           "Mark functions whose results become out-parameters">,
  ];
}

def WidenSubByteMemory
    : Pass<"qopt-widen-sub-byte-memory", "::mlir::LLVM::LLVMFuncOp"> {
  let summary = "Access sub-byte integers in memory as whole bytes";
  let description = [{
    A buffer of `i4` (or `i1`) elements holds one element per byte, but LLVM
    only defines a load of such a type when the same type stored the byte,
    and its vectorizers treat `<N x i4>` as bit-packed. Buffers filled by a
    host program would read as garbage. This pass rewrites every scalar
    `llvm.load` of an integer narrower than 8 bits into an `i8` load and a
    truncation, and every such `llvm.store` into an extension (sign for
    4-bit codes, zero for `i1`) and an `i8` store, which pins the memory
    format: one element per byte, sign-extended. `qopt-cpu-pipeline` runs
    it after the conversion to the LLVM dialect.

    Example:

    ```mlir
    %v = llvm.load %p : !llvm.ptr -> i4
    // becomes
    %b = llvm.load %p : !llvm.ptr -> i8
    %v = llvm.trunc %b : i8 to i4
    ```
  }];
}

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
