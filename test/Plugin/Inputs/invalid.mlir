func.func @odd(%q: tensor<3xi4>) -> tensor<1xi8> {
  %p = qopt.pack %q : tensor<3xi4> -> tensor<1xi8>
  return %p : tensor<1xi8>
}
