// RUN: quant-opt %s --split-input-file --qopt-bundle-gpu-binaries --verify-diagnostics | FileCheck %s

// One object that is not PTX: left as it is (one PTX object, the
// sm_90a-only kernels of a chip list with older chips, becomes a fatbin:
// test/Integration/GPU/wgmma_launch.test).
// CHECK: gpu.binary @one [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "x">]
gpu.binary @one [#gpu.object<#nvvm.target<chip = "sm_90a">, bin = "x">]

// -----

// Objects that are not PTX cannot be assembled.
// expected-error @below {{qopt-bundle-gpu-binaries takes NVVM objects in PTX form (gpu-module-to-binary format=isa)}}
gpu.binary @two [#gpu.object<#nvvm.target<chip = "sm_80">, bin = "x">,
                 #gpu.object<#nvvm.target<chip = "sm_90a">, bin = "y">]
