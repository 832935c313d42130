/*
 * Admission and restoration for --tier destructive (tier_destructive.h).
 * The flag itself is checked by the option parser; here come the place and
 * the permission, before anything is written.
 */
#define _GNU_SOURCE
#include "tier_destructive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int destructive_admit(const struct conf_calib *cal, struct destr_clock_state *saved, FILE *human)
{
    char why[320];

    if (!destr_place_disposable(cal->hypervisor, why, sizeof(why))) {
        fprintf(stderr,
                "vdsoconf: refused: --tier destructive changes the system clock and runs only "
                "in a disposable guest (a hypervisor, the root an initramfs, no block device "
                "mounted): %s; nothing was changed\n",
                why);
        return 2;
    }
    if (destr_state_read(saved, why, sizeof(why)) != 0) {
        fprintf(stderr, "vdsoconf: setup error: cannot read the clock state: %s\n", why);
        return 2;
    }
    int e = destr_can_write(saved);
    if (e) {
        fprintf(stderr,
                "vdsoconf: setup error: --tier destructive cannot write the clock: adjtimex: %s "
                "(needs CAP_SYS_TIME)\n",
                strerror(-e));
        return 2;
    }
    destr_state_print(human, "destructive: saved clock state", saved);
    return 0;
}

void destructive_restore(struct conf_results *rs, unsigned target, unsigned group,
                         const struct destr_clock_state *saved, FILE *human)
{
    char err[256], *text = NULL;
    size_t len = 0;
    int64_t set_bracket = 0;
    struct destr_clock_state now;
    FILE *out = open_memstream(&text, &len);

    if (!out)
        abort(); /* cannot even describe the restore: never go on silently */
    bool ok = destr_restore(saved, &set_bracket, err, sizeof(err)) == 0;
    if (!ok)
        fprintf(out, "restore: %s\n", err);
    if (destr_state_read(&now, err, sizeof(err)) != 0) {
        fprintf(out, "reading the restored state: %s\n", err);
        ok = false;
    } else {
        destr_state_print(human, "destructive: restored clock state", &now);
        ok &= destr_state_matches(saved, &now, set_bracket, out);
    }
    fclose(out);
    fprintf(human, "destructive: restored state %s the saved one\n%s",
            ok ? "matches" : "DIFFERS from", text);
    if (len && text[len - 1] == '\n')
        text[len - 1] = 0; /* evidence lines are joined by the reporters */
    struct conf_record rec = {.text = text, .hard = CONF_HARD_PROSE};
    results_add(rs, target, group, "destructive.restore", ok ? CONF_PASS : CONF_FAIL, &rec);
    free(text);
}
