// Calls itself forever, and not as a tail call (which LLVM could turn into
// a loop): the JIT'd code overflows its stack.
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %r = call @f(%a) : (tensor<4xf32>) -> tensor<4xf32>
  %s = arith.addf %r, %a : tensor<4xf32>
  return %s : tensor<4xf32>
}
