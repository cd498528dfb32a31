llvm.func @main() attributes {llvm.emit_c_interface} {
  llvm.return
}
