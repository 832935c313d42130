/*
 * The byte-level mutation the structure-aware mutators fall back on when no
 * engine mutation is available (AFL++ runs its own havoc stages anyway; this
 * keeps a custom-mutator-only run from stalling on one structure).
 */
#include "mutator_rng.h"

#include <stddef.h>
#include <string.h>

size_t mut_bytes(struct mut_rng *r, uint8_t *data, size_t size, size_t max_size)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x10, 0x40};
    size_t pos = mut_rng_below(r, size);

    if (size == 0)
        return 0;
    switch (mut_rng_below(r, 5)) {
    case 0:
        data[pos] ^= (uint8_t)(1u << mut_rng_below(r, 8));
        break;
    case 1:
        data[pos] = interesting[mut_rng_below(r, sizeof(interesting))];
        break;
    case 2:
        data[pos] = (uint8_t)mut_rng_next(r);
        break;
    case 3: { /* copy a short run inside the input */
        size_t from = mut_rng_below(r, size), len = 1 + mut_rng_below(r, 16);
        if (len > size - from)
            len = size - from;
        if (len > size - pos)
            len = size - pos;
        memmove(data + pos, data + from, len);
        break;
    }
    default: /* shrink or grow at the end */
        if (mut_rng_one_in(r, 2) && size > 1)
            return size - 1 - mut_rng_below(r, size - 1 < 64 ? size - 1 : 64);
        if (size < max_size) {
            size_t grow = 1 + mut_rng_below(r, max_size - size < 64 ? max_size - size : 64);
            memset(data + size, 0, grow);
            return size + grow;
        }
        break;
    }
    return size;
}
