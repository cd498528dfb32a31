// REQUIRES: ptxas
// RUN: quant-opt %s --qopt-bundle-gpu-binaries --verify-diagnostics

// PTX that ptxas rejects: its message comes back with the error.
// expected-error @below {{ptxas failed}}
gpu.binary @bad [#gpu.object<#nvvm.target<chip = "sm_80">, assembly = "not ptx">,
                 #gpu.object<#nvvm.target<chip = "sm_90a">, assembly = "not ptx">]
