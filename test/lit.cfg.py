# -*- Python -*-
# lit configuration for quant-opt: FileCheck tests on .mlir files and
# integration tests (.py) that run quant-run and compare against NumPy.

import importlib.util
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "QUANT_OPT"
# The internal shell: portable and the only mode newer lit keeps.
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".py", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "reference.py",
                   "CMakeLists.txt", "Inputs", "python", "Unit", "consumer",
                   "numerics_harness.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quant_opt_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%quant_opt_lib", config.quant_opt_lib_dir))
config.substitutions.append(("%unit_tests", config.quant_opt_unit_test))
config.substitutions.append(("%quant_opt_obj_root", config.quant_opt_obj_root))
config.substitutions.append(("%mlir_cmake_dir", config.mlir_cmake_dir))
config.substitutions.append(
    ("%mlir_opt", os.path.join(config.llvm_tools_dir, "mlir-opt")))
config.substitutions.append(
    ("%plugin", os.path.join(config.quant_opt_lib_dir, "QuantOptPlugin.so")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# The integration tests import the shared NumPy references from test/python.
config.environment["PYTHONPATH"] = os.pathsep.join([
    os.path.join(config.test_source_root, "python"),
    os.path.join(config.test_source_root, "Numerics")])
config.environment["QUANT_RUN"] = os.path.join(
    config.quant_opt_tools_dir, "quant-run")
config.environment["QUANT_NUMERICS"] = os.path.join(
    config.quant_opt_tools_dir, "quant-numerics")
config.environment["QUANT_OPT"] = os.path.join(
    config.quant_opt_tools_dir, "quant-opt")

tool_dirs = [config.quant_opt_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["quant-opt", "quant-run", "quant-numerics",
                                    "quant-compile"],
                                   tool_dirs)
llvm_config.add_tool_substitutions(["mlir-translate", "opt"],
                                   [config.llvm_tools_dir])
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The CUDA runtime library and its test helpers (runtime/, test/Runtime).
runtime_check = os.path.join(config.quant_opt_obj_root, "test", "Runtime",
                             "runtime-check")
if os.path.exists(runtime_check):
    config.available_features.add("cuda-runtime")
    config.substitutions.append(("%runtime_check", runtime_check))
    config.substitutions.append(("%tma_check", os.path.join(
        config.quant_opt_obj_root, "test", "Runtime", "tma-check")))
    config.substitutions.append(("%fake_cuda", os.path.join(
        config.quant_opt_obj_root, "test", "Runtime", "libfake_cuda.so")))
    config.substitutions.append(("%cuda_runtime_lib", os.path.join(
        config.quant_opt_lib_dir, "libqopt_cuda_runtime.so")))

# Kernel serialization runs ptxas (gpu-module-to-binary); SASS checks use
# cuobjdump / nvdisasm from PyPI (nvidia-cuda-cuobjdump, scripts/setup).
cuda_bin = "/usr/local/cuda/bin"
if os.path.exists(os.path.join(cuda_bin, "ptxas")) or shutil.which("ptxas"):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", os.path.join(cuda_bin, "ptxas")
                                 if os.path.exists(os.path.join(cuda_bin, "ptxas"))
                                 else shutil.which("ptxas")))
try:
    import nvidia
    for root in nvidia.__path__:
        sass_bin = os.path.join(root, "cu13", "bin")
        if os.path.exists(os.path.join(sass_bin, "cuobjdump")) and \
                os.path.exists(os.path.join(sass_bin, "nvdisasm")):
            config.available_features.add("cuobjdump")
            config.substitutions.append(
                ("%cuobjdump", os.path.join(sass_bin, "cuobjdump")))
            # cuobjdump runs nvdisasm, which it looks for on PATH.
            config.environment["PATH"] = os.pathsep.join(
                [sass_bin, config.environment.get("PATH", os.environ["PATH"])])
            break
except ImportError:
    pass

# PyTorch (scripts/setup installs it): bench/gpu/cpu_check.py runs the GPU
# benchmark's own code on it.
if importlib.util.find_spec("torch") is not None:
    config.available_features.add("torch")

# nvcc builds the CUDA checks of bench/gpu (mma_sp_check.cu) here; they
# run only where there is a device.
nvcc = os.path.join(config.cuda_toolkit or "/usr/local/cuda", "bin", "nvcc")
if os.path.exists(nvcc):
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", nvcc))
config.substitutions.append(
    ("%quant_opt_src", os.path.dirname(config.test_source_root)))

# GPU tests need a device: set the feature only when a driver answers.
if shutil.which("nvidia-smi") and os.system("nvidia-smi -L >/dev/null 2>&1") == 0:
    config.available_features.add("cuda-device")
