/*
 * src/ops/op_table.c - operator names and arities, generated from the EOS_OP_MAP X-macro in
 * op_list.h (see ops.h). The table is read-only; lookups by name are a linear scan over fifty
 * entries, which only the importer does, once per node.
 */
#include <string.h>

#include "ops/ops.h"

typedef struct op_row {
    const char *name;
    int         min_in, max_in, min_out, max_out;
} op_row;

static const op_row k_ops[EOS_OP_COUNT_] = {
    [EOS_OP_UNKNOWN] = { "?", 0, 0, 0, 0 },
#define EOS_OP_ROW_(e, nm, a, b, c, d) [EOS_OP_##e] = { nm, a, b, c, d },
    EOS_OP_MAP(EOS_OP_ROW_)
#undef EOS_OP_ROW_
};

eos_op eos_op_from_name(const char *op_type) {
    if (!op_type) return EOS_OP_UNKNOWN;
    for (int i = 1; i < EOS_OP_COUNT_; i++)
        if (!strcmp(k_ops[i].name, op_type)) return (eos_op)i;
    return EOS_OP_UNKNOWN;
}

const char *eos_op_name(eos_op op) {
    if ((int)op <= 0 || (int)op >= EOS_OP_COUNT_) return "?";
    return k_ops[op].name;
}

void eos_op_arity(eos_op op, int *min_in, int *max_in, int *min_out, int *max_out) {
    int i = ((int)op > 0 && (int)op < EOS_OP_COUNT_) ? (int)op : 0;
    if (min_in) *min_in = k_ops[i].min_in;
    if (max_in) *max_in = k_ops[i].max_in;
    if (min_out) *min_out = k_ops[i].min_out;
    if (max_out) *max_out = k_ops[i].max_out;
}
