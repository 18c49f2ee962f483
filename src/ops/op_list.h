/*
 * src/ops/op_list.h - the operator table: one X-macro row per supported ONNX operator.
 *
 *   X(ENUM, "OnnxOpType", min_inputs, max_inputs, min_outputs, max_outputs)
 *
 * The importer maps op_type strings through this table (anything absent fails at load with
 * EOS_UNSUPPORTED naming the op and node) and checks input/output counts. The shape-inference
 * and reference-kernel tables in src/ops/ are indexed by the same enum.
 * Ops that are only aliases at load (Identity, Dropout) are kept as nodes and removed by
 * the load-time passes.
 */
#ifndef EOS_OPS_OP_LIST_H
#define EOS_OPS_OP_LIST_H

#define EOS_OP_MAP(X)                                           \
    X(CONV,               "Conv",               2, 3, 1, 1)     \
    X(CONV_TRANSPOSE,     "ConvTranspose",      2, 3, 1, 1)     \
    X(BATCH_NORM,         "BatchNormalization", 5, 5, 1, 3)     \
    X(RELU,               "Relu",               1, 1, 1, 1)     \
    X(LEAKY_RELU,         "LeakyRelu",          1, 1, 1, 1)     \
    X(PRELU,              "PRelu",              2, 2, 1, 1)     \
    X(CLIP,               "Clip",               1, 3, 1, 1)     \
    X(SIGMOID,            "Sigmoid",            1, 1, 1, 1)     \
    X(TANH,               "Tanh",               1, 1, 1, 1)     \
    X(HARD_SIGMOID,       "HardSigmoid",        1, 1, 1, 1)     \
    X(HARD_SWISH,         "HardSwish",          1, 1, 1, 1)     \
    X(SOFTMAX,            "Softmax",            1, 1, 1, 1)     \
    X(LOG_SOFTMAX,        "LogSoftmax",         1, 1, 1, 1)     \
    X(MAX_POOL,           "MaxPool",            1, 1, 1, 2)     \
    X(AVERAGE_POOL,       "AveragePool",        1, 1, 1, 1)     \
    X(GLOBAL_AVERAGE_POOL,"GlobalAveragePool",  1, 1, 1, 1)     \
    X(GLOBAL_MAX_POOL,    "GlobalMaxPool",      1, 1, 1, 1)     \
    X(GEMM,               "Gemm",               2, 3, 1, 1)     \
    X(MATMUL,             "MatMul",             2, 2, 1, 1)     \
    X(FLATTEN,            "Flatten",            1, 1, 1, 1)     \
    X(RESHAPE,            "Reshape",            2, 2, 1, 1)     \
    X(TRANSPOSE,          "Transpose",          1, 1, 1, 1)     \
    X(SQUEEZE,            "Squeeze",            1, 2, 1, 1)     \
    X(UNSQUEEZE,          "Unsqueeze",          1, 2, 1, 1)     \
    X(CONCAT,             "Concat",             1, 65535, 1, 1) \
    X(SPLIT,              "Split",              1, 2, 1, 65535) \
    X(SLICE,              "Slice",              1, 5, 1, 1)     \
    X(GATHER,             "Gather",             2, 2, 1, 1)     \
    X(SHAPE,              "Shape",              1, 1, 1, 1)     \
    X(CONSTANT,           "Constant",           0, 0, 1, 1)     \
    X(CONSTANT_OF_SHAPE,  "ConstantOfShape",    1, 1, 1, 1)     \
    X(IDENTITY,           "Identity",           1, 1, 1, 1)     \
    X(DROPOUT,            "Dropout",            1, 3, 1, 2)     \
    X(ADD,                "Add",                2, 2, 1, 1)     \
    X(SUB,                "Sub",                2, 2, 1, 1)     \
    X(MUL,                "Mul",                2, 2, 1, 1)     \
    X(DIV,                "Div",                2, 2, 1, 1)     \
    X(POW,                "Pow",                2, 2, 1, 1)     \
    X(SQRT,               "Sqrt",               1, 1, 1, 1)     \
    X(EXP,                "Exp",                1, 1, 1, 1)     \
    X(NEG,                "Neg",                1, 1, 1, 1)     \
    X(RESIZE,             "Resize",             1, 4, 1, 1)     \
    X(UPSAMPLE,           "Upsample",           1, 2, 1, 1)     \
    X(PAD,                "Pad",                1, 4, 1, 1)     \
    X(REDUCE_MEAN,        "ReduceMean",         1, 2, 1, 1)     \
    X(REDUCE_SUM,         "ReduceSum",          1, 2, 1, 1)     \
    X(ARGMAX,             "ArgMax",             1, 1, 1, 1)     \
    X(CAST,               "Cast",               1, 1, 1, 1)     \
    X(WHERE,              "Where",              3, 3, 1, 1)     \
    X(EQUAL,              "Equal",              2, 2, 1, 1)

typedef enum eos_op {
    EOS_OP_UNKNOWN = 0,
#define EOS_OP_ENUM_(e, name, a, b, c, d) EOS_OP_##e,
    EOS_OP_MAP(EOS_OP_ENUM_)
#undef EOS_OP_ENUM_
    EOS_OP_COUNT_
} eos_op;

#endif /* EOS_OPS_OP_LIST_H */
