"""The offline model's matrix products on int8 arithmetic (onnxruntime's DynamicQuantizeMatMul).

The int8 file of all-MiniLM-L6-v2 stores each weight matrix as int8 values with one scale per
output column, and turns them back into float32 in the graph (`MatMul(x, Mul(Cast(W), scale))`).
onnxruntime folds those constants when it loads the file, so every product runs in float32 and
reads 42 MB of weights per text: a short query took ~4 of its ~7 ms in them (2 cores, AVX-512).

`dynamic_int8` rewrites each such product into `DynamicQuantizeMatMul(x, W, scale, 0)`: the same
int8 weights and scales, and the input quantized to uint8 per call (one scale for the whole
input tensor), multiplied in int8 arithmetic (VNNI where the CPU has it): 10 MB of weights,
~1.5 ms. The vectors differ from the float32 products' by the input's rounding (cosine
0.979-0.999, median 0.994, on 400 texts of `make eval`; its recall is within two questions of
256, docs/decisions.md), so they carry another model name (a model change: migrations 0011 and
`manage.py reembed`). The input's scale spans the whole input tensor, so a text's vector would
depend on the other texts of its batch and their padding: the embedder runs one text at a time.
"""

from __future__ import annotations

import numpy as np

CONTRIB_DOMAIN = "com.microsoft"


def dynamic_int8(model_bytes: bytes) -> bytes:
    """The ONNX model `model_bytes` with each float32 product of stored int8 weights (see the
    module) replaced by DynamicQuantizeMatMul, and the nodes and constants it no longer uses
    dropped. ValueError when the model has no such product (another file than the one pinned).
    `onnx` is imported here, when a model loads: it takes ~0.7 s."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    constants = {tensor.name: tensor for tensor in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    added = []
    for position, node in enumerate(graph.node):
        weights = _int8_weights(node, producers, constants)
        if weights is None:
            continue
        values, scale = weights
        names = [f"{node.name}/weights", f"{node.name}/scale", f"{node.name}/zero_point"]
        added += [
            numpy_helper.from_array(values, names[0]),
            numpy_helper.from_array(scale, names[1]),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), names[2]),
        ]
        graph.node[position].CopyFrom(
            helper.make_node(
                "DynamicQuantizeMatMul",
                [node.input[0], *names],
                list(node.output),
                name=f"{node.name}/int8",
                domain=CONTRIB_DOMAIN,
            )
        )
    if not added:
        raise ValueError("no MatMul of stored int8 weights with per-column scales")
    graph.initializer.extend(added)
    _drop_unused(graph)
    if not any(opset.domain == CONTRIB_DOMAIN for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid(CONTRIB_DOMAIN, 1))
    return model.SerializeToString()


def _int8_weights(node, producers, constants) -> tuple[np.ndarray, np.ndarray] | None:
    """(int8 [K, N] values, float32 [N] scales) when `node` is MatMul(x, Mul(Cast(W), scale))
    with W an int8 constant and scale a [1, N] constant; None otherwise."""
    from onnx import numpy_helper

    if node.op_type != "MatMul":
        return None
    scaled = producers.get(node.input[1])
    if scaled is None or scaled.op_type != "Mul":
        return None
    cast = producers.get(scaled.input[0])
    if cast is None or cast.op_type != "Cast" or cast.input[0] not in constants:
        return None
    if scaled.input[1] not in constants:
        return None
    values = numpy_helper.to_array(constants[cast.input[0]])
    scale = numpy_helper.to_array(constants[scaled.input[1]])
    if values.dtype != np.int8 or values.ndim != 2 or scale.shape != (1, values.shape[1]):
        return None
    return values, scale.reshape(-1).astype(np.float32)


def _drop_unused(graph) -> None:
    """Remove the nodes none of whose outputs is used (repeatedly), then unused constants."""
    outputs = {output.name for output in graph.output}
    while True:
        used = outputs | {name for node in graph.node for name in node.input}
        dead = [node for node in graph.node if not any(out in used for out in node.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    used = outputs | {name for node in graph.node for name in node.input}
    for tensor in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(tensor)
