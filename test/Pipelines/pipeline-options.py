# The pipelines that mirror a pass's options (qopt-gpu-pipeline those of
# convert-qopt-matmul-to-gpu, qopt-weight-ptq those of qopt-quantize-weights;
# include/quant-opt/Pipelines/Pipelines.h declares them a second time, as
# upstream pipelines do) have every one of them, with the pass's default, and
# forward every one to the pass: a new pass option the pipeline forgets, a
# default that drifts, or a value dropped on the way fails here. Options
# the pipeline derives from its others (DERIVED) are checked for that
# derivation instead. And qopt-gpu-pipeline refuses a binary format it does
# not know.
# RUN: %python %s

import os
import re
import subprocess
import sys
import tempfile

EMPTY = tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False)
EMPTY.write("module {}\n")
EMPTY.close()

failures = []


def dumped_options(pipeline, pass_name):
    """The options `pass_name` runs with in `pipeline`, as
    --dump-pass-pipeline prints them: {name: value}."""
    run = subprocess.run(
        [os.environ["QUANT_OPT"], EMPTY.name, f"--pass-pipeline=builtin.module({pipeline})",
         "--dump-pass-pipeline", "-o", "/dev/null"],
        capture_output=True, text=True)
    # The dump comes before the run, which may then reject the value (the
    # check here is what the pass is given, not whether it takes it).
    found = re.search(re.escape(pass_name) + r"\{([^}]*)\}", run.stderr)
    if not found:
        return None, run.stderr.strip()[:300]
    return dict(o.split("=", 1) for o in found.group(1).split()), ""


def other_value(name, value):
    """A value of option `name` other than its default `value`, which the
    option parser takes."""
    if value in ("true", "false"):
        return "false" if value == "true" else "true"
    if re.fullmatch(r"-?\d+", value):
        return str(int(value) + 3)
    return {"chip": "sm_80,sm_89", "weight-layout": "tiles",
            "storage": "f8E4M3FN", "method": "gptq"}.get(name, "a/b.c")


# qopt-gpu-pipeline sets dispatch-sm90a where it bundles sm_90a and older
# chips into one fatbin with wgmma on: {pipeline options: expected value}.
DERIVED = {
    "dispatch-sm90a": {
        "": "false",
        "chip=sm_80,sm_90a": "true",
        "chip=sm_89,sm_90a format=fatbin": "true",
        "chip=sm_80,sm_90a format=isa": "false",
        "chip=sm_80,sm_90a format=bin": "false",
        "chip=sm_80,sm_90a wgmma=false": "false",
        "chip=sm_80,sm_89": "false",
        "chip=sm_90a,sm_90a": "false",
    },
}


def check_mirror(pipeline, pass_name):
    defaults, error = dumped_options(pass_name, pass_name)
    if defaults is None or not defaults:
        failures.append(f"{pass_name}: no options dumped ({error})")
        return
    mirrored, error = dumped_options(pipeline, pass_name)
    for name, cases in DERIVED.items():
        if name not in defaults:
            continue
        if mirrored is not None and name in mirrored:
            del mirrored[name]
        defaults.pop(name, None)
        for options, expected in cases.items():
            got, error = dumped_options(f"{pipeline}{{{options}}}", pass_name)
            if got is None or got.get(name) != expected:
                failures.append(f"{pipeline}{{{options}}} runs {pass_name} "
                                f"with {name}={got and got.get(name)} "
                                f"({error}), not {expected}")
    if mirrored != defaults:
        failures.append(f"{pipeline} runs {pass_name} with {mirrored} "
                        f"({error}), not its defaults {defaults}")
    for name, value in sorted(defaults.items()):
        other = other_value(name, value)
        got, error = dumped_options(f"{pipeline}{{{name}={other}}}", pass_name)
        if got is None:
            failures.append(f"{pipeline}{{{name}={other}}}: {error}")
        elif got.get(name) != other:
            failures.append(f"{pipeline}{{{name}={other}}} runs {pass_name} "
                            f"with {name}={got.get(name)}")
    print(f"{pipeline}: {len(defaults)} options of {pass_name} checked")


check_mirror("qopt-gpu-pipeline", "convert-qopt-matmul-to-gpu")
check_mirror("qopt-weight-ptq", "qopt-quantize-weights")

# qopt-gpu-pipeline's kernels-dir is qopt-export-gpu-kernels' output-dir.
got, error = dumped_options("qopt-gpu-pipeline{kernels-dir=/tmp/k}",
                            "qopt-export-gpu-kernels")
if got != {"output-dir": "/tmp/k"}:
    failures.append(f"kernels-dir: qopt-export-gpu-kernels runs with {got} "
                    f"({error})")

# A format gpu-module-to-binary does not know fails the pipeline (that pass
# reports it, exits 0 and leaves an unparseable binary).
run = subprocess.run([os.environ["QUANT_OPT"], EMPTY.name,
                      "--qopt-gpu-pipeline=format=foo", "-o", os.devnull],
                     capture_output=True, text=True)
if run.returncode == 0 or "qopt-gpu-pipeline: unknown format 'foo' (expected " \
        "isa, bin or fatbin)" not in run.stderr:
    failures.append(f"format=foo: exit {run.returncode}, {run.stderr[:200]}")

for line in failures:
    print("FAIL:", line)
sys.exit(1 if failures else 0)
