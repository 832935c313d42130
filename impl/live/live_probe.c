/*
 * Gathering the facts about this process's vDSO: AT_SYSINFO_EHDR, the text
 * of /proc/self/maps (read whole, so that no line is split), the `Linux`
 * note of the image inside the [vdso] mapping found there, and uname. Only
 * the [vdso] bytes are read, and only once maps has shown them mapped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <vdsokit/elf.h>
#include <vdsokit/elf_sections.h>
#include <vdsokit/live_layout.h>

/* A process's maps is a few KiB; anything past this is not a maps file. */
#define MAPS_MAX (16u << 20)

/* buf doubled (64 KiB at first); NULL, buf kept, past MAPS_MAX or out of memory. */
static char *grow(char *buf, size_t *cap)
{
    size_t want = *cap ? 2 * *cap : 1u << 16;
    char *more = want <= MAPS_MAX ? realloc(buf, want) : NULL;

    if (more)
        *cap = want;
    return more;
}

/* The whole of /proc/self/maps, malloc'd; NULL with err. */
static char *read_maps(size_t *len, struct vdsokit_error *err)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t cap = 0, n = 0;
    char *buf = NULL;
    const char *why;

    if (fd < 0)
        return vdsokit_fail(err, "/proc/self/maps: %s", strerror(errno)), NULL;
    for (;;) {
        if (n == cap) {
            char *more = grow(buf, &cap);
            if (!more) {
                why = cap >= MAPS_MAX ? "larger than 16 MiB" : "out of memory";
                break;
            }
            buf = more;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            why = strerror(errno);
            break;
        }
        if (r == 0) {
            close(fd);
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    close(fd);
    free(buf);
    vdsokit_fail(err, "/proc/self/maps: %s", why);
    return NULL;
}

/* The note's LINUX_VERSION_CODE, read from the [vdso] mapping only. */
static void read_note(struct live_layout *l)
{
    size_t size;
    const void *text = live_layout_vdso(l, &size);
    struct elf_image img;
    struct elf_notes notes;

    if (!text || elf_open(&img, text, size, NULL) || elf_notes_read(&img, NULL, &notes, NULL))
        return;
    l->has_note = notes.has_linux_version;
    l->note_version = notes.linux_version;
}

static void read_uname(struct live_layout *l)
{
    struct utsname u;

    if (uname(&u) != 0)
        return;
    snprintf(l->release, sizeof(l->release), "%s", u.release);
    l->has_uname = live_release_version(u.release, &l->uname_version);
}

int live_layout_probe(struct live_layout *out, struct vdsokit_error *err)
{
    size_t len = 0;

    memset(out, 0, sizeof(*out));
    out->base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if (out->base) {
        char *text = read_maps(&len, err);
        if (!text)
            return -1;
        live_maps_parse(text, len, &out->maps);
        free(text);
        if (out->maps.vdso.count != 1 || out->maps.vdso.lo != out->base)
            return vdsokit_fail(err,
                                "AT_SYSINFO_EHDR 0x%lx is not the start of the one [vdso] line "
                                "in /proc/self/maps (%u such lines)",
                                (unsigned long)out->base, out->maps.vdso.count);
        read_note(out);
    }
    read_uname(out);
    live_layout_decide(out);
    return 0;
}
