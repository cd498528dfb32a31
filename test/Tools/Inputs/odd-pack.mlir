func.func @f(%q: tensor<7xi4>) -> tensor<3xi8> {
  %p = qopt.pack %q : tensor<7xi4> -> tensor<3xi8>
  return %p : tensor<3xi8>
}
