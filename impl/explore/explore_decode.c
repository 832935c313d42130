/*
 * The loads the stepping engine performs itself instead of stepping them:
 * the instruction at the interrupted RIP decoded (mov r16/32/64, movzx,
 * movsx, movsxd; sub, cmp and test with a memory source, with REX and 66h
 * prefixes only), its value read from the writer's mapping of the same
 * file page, the destination register or the status flags written into
 * the interrupted context and RIP moved past it. Anything else is left to
 * single-stepping. The operand size of a stepped load is guessed from its
 * prefixes and opcode, for the trace only.
 */
#define _GNU_SOURCE
#include <string.h>
#include <ucontext.h>

#include "explore_internal.h"

/* A plain load the handler can perform itself instead of stepping it. */
struct plain_load {
    unsigned len;  /* instruction bytes */
    unsigned reg;  /* destination, x86 numbering 0-15 */
    unsigned size; /* bytes loaded */
    enum { LOAD_MOV, LOAD_ZX, LOAD_SX, LOAD_SXD } kind;
    bool wide, half; /* REX.W, 66h */
};

/* Bytes of the ModRM memory operand at m (ModRM, SIB, displacement); 0: a register. */
static unsigned modrm_len(const uint8_t *m)
{
    unsigned mod = m[0] >> 6, rm = m[0] & 7, n = 1;

    if (mod == 3)
        return 0;
    if (rm == 4) {
        n++;
        if (mod == 0 && (m[1] & 7) == 5)
            n += 4;
    }
    if (mod == 0 && rm == 5)
        n += 4;
    return n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/*
 * Decode the loads the vDSO is made of: mov r16/32/64 (8B), movzx and
 * movsx (0F B6/B7/BE/BF), movsxd (REX.W 63), after 66h and REX prefixes
 * only. Anything
 * else (a compare, an arithmetic operand, a byte mov) is stepped instead.
 */
static bool decode_plain(const uint8_t *ip, struct plain_load *d)
{
    unsigned i = 0, rex = 0;

    memset(d, 0, sizeof *d);
    if (ip[i] == 0x66) {
        d->half = true;
        i++;
    }
    if ((ip[i] & 0xf0) == 0x40)
        rex = ip[i++];
    d->wide = (rex & 8) != 0;
    if (ip[i] == 0x8b) {
        d->kind = LOAD_MOV;
        d->size = d->wide ? 8 : d->half ? 2 : 4;
        i++;
    } else if (ip[i] == 0x0f && (ip[i + 1] & 0xf6) == 0xb6 && !d->half) {
        d->kind = (ip[i + 1] & 8) ? LOAD_SX : LOAD_ZX;
        d->size = (ip[i + 1] & 1) ? 2 : 1;
        i += 2;
    } else if (ip[i] == 0x63 && d->wide) {
        d->kind = LOAD_SXD;
        d->size = 4;
        i++;
    } else {
        return false;
    }
    unsigned m = modrm_len(ip + i);
    if (!m)
        return false;
    d->reg = ((ip[i] >> 3) & 7) | ((rex & 4) << 1);
    d->len = i + m;
    return true;
}

static const int greg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                REG_R12, REG_R13, REG_R14, REG_R15};

/* Perform load d of `size` bytes at file page fp, offset off, into the interrupted context. */
static bool emulate(const struct explore *x, const struct plain_load *d, int fp, unsigned off,
                    greg_t *g)
{
    uint64_t v = 0;

    if (fp < 0 || off + d->size > EXPLORE_PAGE)
        return false;
    memcpy(&v, x->l->dp.rw + (size_t)fp * EXPLORE_PAGE + off, d->size);
    greg_t *r = &g[greg_of[d->reg]];
    if (d->kind == LOAD_SXD)
        *r = (greg_t)(int64_t)(int32_t)(uint32_t)v;
    else if (d->kind == LOAD_SX)
        *r =
            (greg_t)(d->wide ? (uint64_t)(d->size == 1 ? (int64_t)(int8_t)v : (int64_t)(int16_t)v)
                             : (uint32_t)(d->size == 1 ? (int32_t)(int8_t)v : (int32_t)(int16_t)v));
    else if (d->kind == LOAD_MOV && d->half)
        *r = (greg_t)(((uint64_t)*r & ~0xffffull) | v);
    else
        *r = (greg_t)v; /* 32-bit and zero-extending loads clear the upper half */
    g[REG_RIP] += d->len;
    return true;
}

/*
 * The arithmetic forms the vDSO reads its pages with: sub r, m (2B); cmp r,
 * m (3B) and cmp m, r (39); test m, r (85); test m8, imm8 (F6 /0); cmp m,
 * imm8 (80 /7 byte, 83 /7 sign-extended). With REX only (no 66h): 8, 32 or
 * 64 bits. The handler computes the result and the six status flags as the
 * CPU does.
 */
enum alu_op { ALU_SUB, ALU_CMP_RM, ALU_CMP_MR, ALU_TEST, ALU_TEST_IMM, ALU_CMP_IMM };

struct alu_load {
    unsigned len, reg, size;
    enum alu_op op;
    uint64_t imm;
};

static bool decode_alu(const uint8_t *ip, struct alu_load *d)
{
    unsigned i = 0, rex = 0;

    memset(d, 0, sizeof *d);
    if ((ip[i] & 0xf0) == 0x40)
        rex = ip[i++];
    uint8_t op = ip[i++], ext = (ip[i] >> 3) & 7;
    unsigned m = modrm_len(ip + i);
    if (!m)
        return false;
    d->size = (rex & 8) ? 8 : 4;
    d->reg = ext | ((rex & 4) << 1);
    d->len = i + m;
    switch (op) {
    case 0x2b:
        d->op = ALU_SUB;
        return true;
    case 0x3b:
        d->op = ALU_CMP_RM;
        return true;
    case 0x39:
        d->op = ALU_CMP_MR;
        return true;
    case 0x85:
        d->op = ALU_TEST;
        return true;
    case 0xf6:
    case 0x80:
        if (op == 0xf6 ? ext != 0 : ext != 7)
            return false;
        d->op = op == 0xf6 ? ALU_TEST_IMM : ALU_CMP_IMM;
        d->size = 1;
        d->imm = ip[d->len++];
        return true;
    case 0x83:
        if (ext != 7)
            return false;
        d->op = ALU_CMP_IMM;
        d->imm = (uint64_t)(int64_t)(int8_t)ip[d->len++];
        return true;
    default:
        return false;
    }
}

static bool emulate_alu(const struct explore *x, const struct alu_load *d, int fp, unsigned off,
                        greg_t *g)
{
    uint64_t m = 0, r;

    if (fp < 0 || off + d->size > EXPLORE_PAGE)
        return false;
    memcpy(&m, x->l->dp.rw + (size_t)fp * EXPLORE_PAGE + off, d->size);
    greg_t *reg = &g[greg_of[d->reg]];
    uint64_t rv = (uint64_t)*reg, f;
    unsigned bits = d->size * 8;
    switch (d->op) {
    case ALU_SUB:
        f = explore_alu_flags(rv, m, bits, false, &r);
        *reg = (greg_t)r; /* a 32-bit result clears the upper half */
        break;
    case ALU_CMP_RM:
        f = explore_alu_flags(rv, m, bits, false, &r);
        break;
    case ALU_CMP_MR:
        f = explore_alu_flags(m, rv, bits, false, &r);
        break;
    case ALU_TEST:
        f = explore_alu_flags(m, rv, bits, true, &r);
        break;
    case ALU_TEST_IMM:
        f = explore_alu_flags(m, d->imm, bits, true, &r);
        break;
    default:
        f = explore_alu_flags(m, d->imm, bits, false, &r);
        break;
    }
    uint64_t keep = ~(uint64_t)EXPLORE_STATUS_FLAGS;
    g[REG_EFL] = (greg_t)(((uint64_t)g[REG_EFL] & keep) | f);
    g[REG_RIP] += d->len;
    return true;
}

/* The operand size of the load at ip: byte forms, 66h, REX.W; else 4. */
uint8_t explore_operand_size(const uint8_t *ip)
{
    bool wide = false, half = false;
    int i = 0;

    for (; i < 8; i++) {
        uint8_t b = ip[i];
        if (b == 0x66)
            half = true;
        else if (b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x3e || b == 0x64 || b == 0x65)
            continue;
        else if ((b & 0xf0) == 0x40)
            wide = (b & 8) != 0;
        else
            break;
    }
    uint8_t op = ip[i];
    if (op == 0x0f)
        return ip[i + 1] == 0xb6 || ip[i + 1] == 0xbe   ? 1
               : ip[i + 1] == 0xb7 || ip[i + 1] == 0xbf ? 2
               : wide                                   ? 8
               : half                                   ? 2
                                                        : 4;
    if ((op < 0x40 && (op & 7) <= 2 && !(op & 1)) || op == 0x8a || op == 0x88 || op == 0x84 ||
        op == 0x86 || op == 0xc6 || op == 0xf6 || op == 0x80)
        return 1;
    return wide ? 8 : half ? 2 : 4;
}

bool explore_perform_load(const struct explore *x, greg_t *g, int fp, unsigned off, uint8_t *size)
{
    const uint8_t *ip = (const uint8_t *)g[REG_RIP];
    struct plain_load d;
    struct alu_load alu;

    if (decode_plain(ip, &d)) {
        *size = (uint8_t)d.size;
        return emulate(x, &d, fp, off, g);
    }
    if (decode_alu(ip, &alu)) {
        *size = (uint8_t)alu.size;
        return emulate_alu(x, &alu, fp, off, g);
    }
    return false;
}
