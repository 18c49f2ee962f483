#!/usr/bin/python3
"""Write the seed corpus of the ONNX fuzzer (tests/fuzz/corpus/onnx/) with the onnx package.

Each seed is a small valid (or deliberately refused) model exercising one area of the importer:
attribute kinds, tensor encodings, Constant folding, external data, metadata, and the graph
shapes real exporters produce. Seeds stay well under 20 KB. Run from the repository root:

    /usr/bin/python3 tests/onnx/gen_fuzz_seeds.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus", "onnx")
rng = np.random.default_rng(0)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save(name, graph, opset=17, ir=8, meta=None):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="eosight-seeds")
    model.ir_version = ir
    for k, v in (meta or {}).items():
        model.metadata_props.add(key=k, value=v)
    data = model.SerializeToString()
    assert len(data) < 20000, (name, len(data))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def conv_relu():
    w = numpy_helper.from_array(f32(4, 3, 3, 3), "w")
    b = numpy_helper.from_array(f32(4), "b")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv0", pads=[1, 1, 1, 1],
                              kernel_shape=[3, 3], strides=[1, 1]),
             helper.make_node("Relu", ["c"], ["y"], "relu0")]
    g = helper.make_graph(nodes, "conv_relu", [vi("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          [vi("y", TensorProto.FLOAT, ["N", 4, 8, 8])], [w, b])
    save("conv_relu.onnx", g)


def res_block():
    c = 4
    inits = [numpy_helper.from_array(f32(c, c, 3, 3), "w1"),
             numpy_helper.from_array(np.abs(f32(c)) + 0.5, "g"),
             numpy_helper.from_array(f32(c), "be"), numpy_helper.from_array(f32(c), "mu"),
             numpy_helper.from_array(np.abs(f32(c)) + 0.5, "var"),
             numpy_helper.from_array(f32(10, c), "fcw"), numpy_helper.from_array(f32(10), "fcb")]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], "conv1", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"], "bn1",
                              epsilon=1e-5),
             helper.make_node("Relu", ["bn"], ["r"], "relu1"),
             helper.make_node("Add", ["r", "x"], ["s"], "add1"),
             helper.make_node("Identity", ["s"], ["s2"], "id"),
             helper.make_node("MaxPool", ["s2"], ["p"], "pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("GlobalAveragePool", ["p"], ["gap"], "gap"),
             helper.make_node("Flatten", ["gap"], ["fl"], "flat", axis=1),
             helper.make_node("Gemm", ["fl", "fcw", "fcb"], ["y"], "fc", transB=1),
             helper.make_node("Softmax", ["y"], ["prob"], "softmax", axis=1)]
    g = helper.make_graph(nodes, "res_block", [vi("x", TensorProto.FLOAT, [1, c, 8, 8])],
                          [vi("prob", TensorProto.FLOAT, [1, 10])], inits)
    save("res_block.onnx", g, meta={"eosight.task": "classification",
                                     "eosight.classes": "a,b,c,d,e,f,g,h,i,j"})


def attrs_all():
    t = helper.make_tensor("t", TensorProto.FLOAT, [2], [1.0, 2.0])
    node = helper.make_node("Relu", ["x"], ["y"], "all_attrs", i=3, f=0.5, s="text",
                            ints=[1, -2, 3], floats=[0.25, -1.0], strings=["a", "bc"], t=t)
    g = helper.make_graph([node], "attrs", [vi("x", TensorProto.FLOAT, [2])],
                          [vi("y", TensorProto.FLOAT, [2])])
    save("attrs_all.onnx", g, opset=11)


def constants():
    nodes = [helper.make_node("Constant", [], ["shape"], "k0",
                              value=numpy_helper.from_array(np.array([1, -1], np.int64))),
             helper.make_node("Constant", [], ["one"], "k1", value_float=1.0),
             helper.make_node("Constant", [], ["fl"], "k2", value_floats=[1.0, 2.0]),
             helper.make_node("Constant", [], ["ax"], "k3", value_int=0),
             helper.make_node("Constant", [], ["axes"], "k4", value_ints=[0]),
             helper.make_node("Reshape", ["x", "shape"], ["r"], "reshape"),
             helper.make_node("Add", ["r", "one"], ["a"], "add"),
             helper.make_node("Unsqueeze", ["a", "axes"], ["y"], "unsq")]
    g = helper.make_graph(nodes, "constants", [vi("x", TensorProto.FLOAT, [2, 3])],
                          [vi("y", TensorProto.FLOAT, None)])
    save("constants.onnx", g, opset=13)


def typed_fields_old_ir():
    # IR 3 style: initializers listed as inputs, data in typed fields rather than raw_data
    w = helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])
    s = helper.make_tensor("s", TensorProto.INT64, [2], [4, 1])
    h = helper.make_tensor("h", TensorProto.FLOAT16, [2], np.array([1, 2], np.float16).view(np.uint16))
    u = helper.make_tensor("u", TensorProto.UINT8, [3], [0, 7, 255])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], "mm"),
             helper.make_node("Reshape", ["m", "s"], ["y"], "rs"),
             helper.make_node("Cast", ["h"], ["hc"], "cast", to=TensorProto.FLOAT)]
    g = helper.make_graph(nodes, "typed", [vi("x", TensorProto.FLOAT, [2, 2]),
                                           vi("w", TensorProto.FLOAT, [2, 2]),
                                           vi("s", TensorProto.INT64, [2])],
                          [vi("y", TensorProto.FLOAT, [4, 1]), vi("hc", TensorProto.FLOAT, [2])],
                          [w, s, h, u])
    save("typed_fields_ir3.onnx", g, opset=9, ir=3)


def external_ref():
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [0.0] * 4)
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "16")):
        w.external_data.add(key=k, value=v)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], "add")], "ext",
                          [vi("x", TensorProto.FLOAT, [4])], [vi("y", TensorProto.FLOAT, [4])], [w])
    save("external_ref.onnx", g)


def shape_ops():
    idx = numpy_helper.from_array(np.array(0, np.int64), "idx")
    axes = numpy_helper.from_array(np.array([0], np.int64), "axes")
    m1 = numpy_helper.from_array(np.array([-1], np.int64), "m1")
    nodes = [helper.make_node("Shape", ["x"], ["sh"], "shape"),
             helper.make_node("Gather", ["sh", "idx"], ["n"], "gather", axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], "unsq"),
             helper.make_node("Concat", ["n1", "m1"], ["ns"], "concat", axis=0),
             helper.make_node("Reshape", ["x", "ns"], ["r"], "reshape"),
             helper.make_node("Transpose", ["r"], ["t"], "tr", perm=[1, 0]),
             helper.make_node("Resize", ["x", "", "sc"], ["up"], "resize", mode="nearest"),
             helper.make_node("Clip", ["up", "", "mx"], ["y"], "clip")]
    sc = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "sc")
    mx = numpy_helper.from_array(np.array(6, np.float32), "mx")
    g = helper.make_graph(nodes, "shape_ops", [vi("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
                          [vi("t", TensorProto.FLOAT, None), vi("y", TensorProto.FLOAT, None)],
                          [idx, axes, m1, sc, mx])
    save("shape_ops.onnx", g)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for fn in (conv_relu, res_block, attrs_all, constants, typed_fields_old_ir, external_ref,
               shape_ops):
        fn()
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
