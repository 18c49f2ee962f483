#!/usr/bin/python3
"""Write the seed corpus of the run fuzzer (tests/fuzz/corpus/model_run/) with the onnx package.

Each seed is a tiny single-operator model (a few small initializers at most) so that the fuzzer
starts from every operator family the engine supports, with inputs of small declared shapes
(the fuzz target feeds each input at its declared shape, symbolic dims as 1). Mutating
attributes, dims and initializer bytes of these is what reaches the shape-inference and
reference-kernel corner cases. Seeds stay under 2 KB. Run from the repository root:

    /usr/bin/python3 tests/fuzz/gen_model_run_seeds.py
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "corpus", "model_run")
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
rng = np.random.default_rng(1)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def i64(*v):
    return np.array(v, dtype=np.int64)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def save(name, nodes, inputs, outputs, inits=(), opset=17):
    """inputs/outputs: lists of (name, elem, shape); inits: dict name -> numpy array."""
    inits = [numpy_helper.from_array(v, k) for k, v in dict(inits).items()]
    g = helper.make_graph(nodes, name, [vi(*x) for x in inputs], [vi(*x) for x in outputs],
                          inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    data = model.SerializeToString()
    assert len(data) < 2048, (name, len(data))
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data)


def one(name, op, x_shape, y_shape=None, inits=None, extra_in=(), opset=17, x_elem=F,
        y_elem=None, **attrs):
    """A single node reading x (plus initializer / extra inputs in order) into y."""
    inits = inits or {}
    ins = ["x"] + list(inits.keys()) + [e[0] for e in extra_in]
    node = helper.make_node(op, ins, ["y"], op.lower() + "0", **attrs)
    save(name, [node], [("x", x_elem, x_shape)] + list(extra_in),
         [("y", y_elem if y_elem is not None else x_elem, y_shape)], inits, opset)


def nn_seeds():
    one("conv", "Conv", ["N", 2, 5, 5], None, {"w": f32(3, 2, 3, 3), "b": f32(3)},
        pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1)
    one("conv_group", "Conv", [1, 4, 4, 4], None, {"w": f32(4, 2, 2, 2)}, group=2,
        auto_pad="SAME_UPPER", strides=[2, 2])
    one("conv1d", "Conv", [1, 2, 6], None, {"w": f32(2, 2, 3)}, dilations=[2])
    one("conv3d", "Conv", [1, 1, 3, 3, 3], None, {"w": f32(1, 1, 2, 2, 2)}, pads=[0] * 6)
    one("conv_t", "ConvTranspose", [1, 2, 3, 3], None, {"w": f32(2, 1, 3, 3)}, strides=[2, 2],
        output_padding=[1, 1], pads=[1, 1, 1, 1])
    one("conv_t_shape", "ConvTranspose", [1, 1, 2, 2], None, {"w": f32(1, 2, 2, 2)},
        output_shape=[4, 4], strides=[2, 2])
    one("bn", "BatchNormalization", [1, 2, 2, 2], None,
        {"s": f32(2), "bb": f32(2), "m": f32(2), "v": np.abs(f32(2))}, epsilon=1e-5)
    one("maxpool", "MaxPool", [1, 1, 5, 5], None, kernel_shape=[3, 3], strides=[2, 2],
        pads=[1, 1, 1, 1], ceil_mode=1)
    one("avgpool", "AveragePool", [1, 1, 4, 4], None, kernel_shape=[2, 2],
        count_include_pad=1, pads=[1, 0, 1, 0])
    one("gap", "GlobalAveragePool", [1, 2, 3, 3], None)
    one("gmp", "GlobalMaxPool", [1, 2, 3], None)
    one("gemm", "Gemm", [2, 3], None, {"w": f32(4, 3), "c": f32(4)}, transB=1, alpha=0.5)
    one("matmul", "MatMul", [2, 1, 3, 4], None, {"w": f32(3, 4, 2)})
    one("matmul_1d", "MatMul", [3], None, {"w": f32(3)})
    one("softmax", "Softmax", [2, 3], None, axis=-1)
    one("logsoftmax", "LogSoftmax", [2, 3], None, axis=0, opset=11)
    one("prelu", "PRelu", [1, 2, 2], None, {"slope": f32(2, 1)})
    one("resize_scales", "Resize", [1, 1, 2, 3], None,
        {"roi": np.zeros(0, np.float32), "scales": np.array([1, 1, 2, 1.5], np.float32)},
        mode="linear")
    one("resize_sizes", "Resize", [1, 1, 3, 3], None,
        {"roi": np.zeros(0, np.float32), "sc": np.zeros(0, np.float32), "sizes": i64(1, 1, 5, 2)},
        mode="cubic", coordinate_transformation_mode="align_corners")
    one("resize_tf", "Resize", [1, 1, 3, 3], None,
        {"roi": np.array([0, 0, 0.1, 0.2, 1, 1, 0.9, 0.8], np.float32),
         "scales": np.array([1, 1, 2, 2], np.float32)},
        coordinate_transformation_mode="tf_crop_and_resize", nearest_mode="ceil")
    one("upsample", "Upsample", [1, 1, 2, 2], None,
        {"scales": np.array([1, 1, 2, 2], np.float32)}, opset=9)


def eltwise_seeds():
    for op in ["Relu", "Sigmoid", "Tanh", "HardSwish", "Sqrt", "Exp", "Neg"]:
        one(op.lower(), op, [2, 3], None)
    one("leakyrelu", "LeakyRelu", [2, 2], None, alpha=0.2)
    one("hardsigmoid", "HardSigmoid", [2, 2], None, alpha=0.3, beta=0.4)
    one("clip", "Clip", [4], None, {"lo": np.array(-1, np.float32),
                                    "hi": np.array(1, np.float32)})
    one("clip6", "Clip", [4], None, opset=6, min=-1.0, max=1.0)
    for op in ["Add", "Sub", "Mul", "Div", "Pow"]:
        one(op.lower(), op, [2, 1, 3], None, {"b": f32(4, 1)})
    one("add_i64", "Add", [3], None, {"b": i64(1, 2, 3)}, x_elem=I64)
    one("equal", "Equal", [3], None, {"b": i64(1, 0, 3)}, x_elem=I64, y_elem=B)
    one("where", "Where", [2, 2], None, {"a": f32(2), "b": f32(2, 1)}, x_elem=B, y_elem=F)
    one("cast", "Cast", [3], None, to=TensorProto.INT64, y_elem=I64)
    one("identity", "Identity", [2, 2], None)
    one("dropout", "Dropout", [2, 2], None)
    one("reducemean", "ReduceMean", [2, 3, 4], None, axes=[1], keepdims=0)
    one("reducesum", "ReduceSum", [2, 3], None, {"axes": i64(-1)})
    one("argmax", "ArgMax", [2, 3], None, axis=1, select_last_index=1, y_elem=I64)


def shape_seeds():
    one("flatten", "Flatten", [2, 3, 4], None, axis=2)
    one("reshape", "Reshape", [2, 3, 4], None, {"s": i64(0, -1, 2)})
    one("reshape_zero", "Reshape", [2, 0, 4], None, {"s": i64(0, 4, 0)}, allowzero=1)
    one("transpose", "Transpose", [2, 3, 4], None, perm=[2, 0, 1])
    one("squeeze", "Squeeze", [1, 3, 1], None, {"a": i64(0)})
    one("unsqueeze", "Unsqueeze", [3], None, {"a": i64(0, -1)})
    one("unsqueeze11", "Unsqueeze", [3], None, axes=[1], opset=11)
    one("concat", "Concat", [2, 2], None, {"b": f32(2, 3)}, axis=1)
    one("split", "Split", [6, 2], None, {"sp": i64(2, 4)}, axis=0)
    one("slice", "Slice", [5, 6], None,
        {"st": i64(4, 1), "en": i64(-100, 5), "ax": i64(0, 1), "stp": i64(-2, 3)})
    one("slice9", "Slice", [5, 6], None, starts=[1], ends=[3], axes=[1], opset=9)
    one("gather", "Gather", [4, 3], None, {"idx": i64(3, -1, 0)}, axis=0)
    one("gather_rt", "Gather", [4, 3], None, extra_in=[("idx", I64, [2])], axis=1)
    one("pad", "Pad", [2, 3], None, {"p": i64(1, -1, 0, 2), "v": np.array(7, np.float32)})
    one("pad_reflect", "Pad", [3, 3], None, {"p": i64(2, 1, 2, 1)}, mode="reflect")
    one("pad_edge", "Pad", [1, 2, 2], None, {"p": i64(0, 1, 1, 0, 2, 2)}, mode="edge")
    one("const_of_shape", "ConstantOfShape", [3], None, x_elem=I64, y_elem=F,
        value=helper.make_tensor("v", F, [1], [2.5]))
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape, the sub-graph exporters emit
    nodes = [helper.make_node("Shape", ["x"], ["s"], "shape0"),
             helper.make_node("Gather", ["s", "zero"], ["n"], "gather0", axis=0),
             helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"], "unsq0"),
             helper.make_node("Concat", ["n1", "minus1"], ["shp"], "concat0", axis=0),
             helper.make_node("Reshape", ["x", "shp"], ["y"], "reshape0")]
    save("shape_chain", nodes, [("x", F, ["N", 3, 2])], [("y", F, None)],
         {"zero": np.array(0, np.int64), "ax0": i64(0), "minus1": i64(-1)})
    # a tiny two-op chain with a residual, for fusion
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], "conv0", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "x"], ["a"], "add0"),
             helper.make_node("Relu", ["a"], ["y"], "relu0")]
    save("conv_add_relu", nodes, [("x", F, [1, 2, 3, 3])], [("y", F, None)],
         {"w": f32(2, 2, 3, 3)})


def main():
    os.makedirs(OUT, exist_ok=True)
    nn_seeds()
    eltwise_seeds()
    shape_seeds()


if __name__ == "__main__":
    main()
