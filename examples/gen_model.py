#!/usr/bin/env python3
"""Generates transformer-shaped model IR (func + linalg + arith) with
random weights, for quant-opt's passes and benchmarks. NumPy only.

    python3 examples/gen_model.py --hidden 1024 --layers 8 --tokens 16 -o model.mlir
    python3 examples/gen_model.py --hidden 4096 --layers 1 --resources -o big.mlir

Each layer applies q, k, v and o projections (hidden x hidden) and an MLP
(hidden -> 4 hidden -> hidden) to x [tokens, hidden]:

    a = relu(x Wq) + x Wk + x Wv          (stands in for attention)
    x = x + a Wo
    x = x + relu(x W1) W2

Weights are stored K x N (the linalg.matmul convention; quant-opt
transposes them to nn.Linear's N x K when it quantizes), drawn from
N(0, 1/sqrt(K)) with a fixed seed, as hex `dense<"0x...">` constants or,
with --resources, as `dense_resource` blobs. Every product carries a
readable location name (layer3.q_proj, ...), which `skip=` and the storage
report use. --weights-npz also writes the weights for a NumPy reference.
"""

import argparse
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--tokens", type=int, default=4)
    p.add_argument("--mlp-ratio", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mlp-only", action="store_true",
                   help="layers of x = x + relu(x W1) W2 only (a plain MLP)")
    p.add_argument("--resources", action="store_true",
                   help="store weights as dense_resource blobs")
    p.add_argument("--weights-npz", help="also save the weights here")
    p.add_argument("-o", "--output", default="-")
    args = p.parse_args()

    h, t, f = args.hidden, args.tokens, args.hidden * args.mlp_ratio
    rng = np.random.default_rng(args.seed)
    act = f"tensor<{t}x{h}xf32>"
    lines, resources, weights = [], [], {}

    def weight(name, k, n):
        w = (rng.standard_normal((k, n), dtype=np.float32) /
             np.float32(np.sqrt(k))).astype(np.float32)
        weights[name] = w
        ty = f"tensor<{k}x{n}xf32>"
        hexdata = w.tobytes().hex()
        var = "%" + name.replace(".", "_")
        if args.resources:
            key = name.replace(".", "_")
            # Blob header: 4-byte little-endian alignment (4).
            resources.append(f"      {key}: \"0x04000000{hexdata}\"")
            lines.append(f"    {var} = arith.constant dense_resource<{key}> "
                         f": {ty}")
        else:
            lines.append(f"    {var} = arith.constant dense<\"0x{hexdata.upper()}\"> : {ty}")
        return var, ty

    counter = [0]

    def fresh():
        counter[0] += 1
        return f"%v{counter[0]}"

    def matmul(name, x, xt, w, wt, m, n):
        out = f"tensor<{m}x{n}xf32>"
        e, z, r = fresh(), fresh(), fresh()
        lines.append(f"    {e} = tensor.empty() : {out}")
        lines.append(f"    {z} = linalg.fill ins(%zero : f32) outs({e} : {out}) -> {out}")
        lines.append(f"    {r} = linalg.matmul ins({x}, {w} : {xt}, {wt}) "
                     f"outs({z} : {out}) -> {out} loc(\"{name}\")")
        return r, out

    def elementwise(op, a, b, ty):
        r = fresh()
        lines.append(f"    {r} = {op} {a}, {b} : {ty}")
        return r

    def relu(a, ty):
        e, r = fresh(), fresh()
        lines.append(f"    {e} = tensor.empty() : {ty}")
        lines.append(f"    {r} = linalg.generic {{indexing_maps = [#id, #id], "
                     f"iterator_types = [\"parallel\", \"parallel\"]}} "
                     f"ins({a} : {ty}) outs({e} : {ty}) {{\n"
                     f"    ^bb0(%in: f32, %o: f32):\n"
                     f"      %m = arith.maximumf %in, %zero : f32\n"
                     f"      linalg.yield %m : f32\n    }} -> {ty}")
        return r

    lines.append("  func.func @main(%x0: " + act + ") -> " + act + " {")
    lines.append("    %zero = arith.constant 0.0 : f32")
    x = "%x0"
    for layer in range(args.layers):
        pre = f"layer{layer}"
        if args.mlp_only:
            w1, w1t = weight(f"{pre}.fc1", h, f)
            u, ut = matmul(f"{pre}.fc1", x, act, w1, w1t, t, f)
            w2, w2t = weight(f"{pre}.fc2", f, h)
            d, _ = matmul(f"{pre}.fc2", relu(u, ut), ut, w2, w2t, t, h)
            x = elementwise("arith.addf", x, d, act)
            continue
        proj = {}
        for name in ["q_proj", "k_proj", "v_proj"]:
            w, wt = weight(f"{pre}.{name}", h, h)
            proj[name], _ = matmul(f"{pre}.{name}", x, act, w, wt, t, h)
        a = elementwise("arith.addf", relu(proj["q_proj"], act), proj["k_proj"], act)
        a = elementwise("arith.addf", a, proj["v_proj"], act)
        w, wt = weight(f"{pre}.o_proj", h, h)
        o, _ = matmul(f"{pre}.o_proj", a, act, w, wt, t, h)
        x = elementwise("arith.addf", x, o, act)
        w1, w1t = weight(f"{pre}.mlp.up_proj", h, f)
        u, ut = matmul(f"{pre}.mlp.up_proj", x, act, w1, w1t, t, f)
        u = relu(u, ut)
        w2, w2t = weight(f"{pre}.mlp.down_proj", f, h)
        d, _ = matmul(f"{pre}.mlp.down_proj", u, ut, w2, w2t, t, h)
        x = elementwise("arith.addf", x, d, act)
    lines.append(f"    return {x} : {act}")
    lines.append("  }")

    text = ["#id = affine_map<(d0, d1) -> (d0, d1)>",
            "module {"] + lines + ["}"]
    if resources:
        text += ["{-#", "  dialect_resources: {", "    builtin: {",
                 ",\n".join(resources), "    }", "  }", "#-}"]
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    out.write("\n".join(text) + "\n")
    if args.weights_npz:
        np.savez(args.weights_npz, **weights)


if __name__ == "__main__":
    main()
