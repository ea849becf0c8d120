/* imbal tests: the tiny PNG image set (see tiny_set.h). */
#include "tiny_set.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "atomic_file.h"
#include "imbal/imbal.h"

void tiny_set_write_img(const char *dir, int cls, int idx, unsigned *seed) {
    uint8_t px[16 * 16 * 3];
    uint8_t bg[3] = {(uint8_t)(rand_r(seed) % 160), (uint8_t)(rand_r(seed) % 160),
                     (uint8_t)(rand_r(seed) % 160)};
    int x0 = 1 + cls * 5, y0 = 3 + rand_r(seed) % 6;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++)
            for (int c = 0; c < 3; c++) {
                int on = x >= x0 && x < x0 + 4 && y >= y0 && y < y0 + 5;
                int v = on ? 250 : bg[c] + (int)(rand_r(seed) % 40);
                px[(y * 16 + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
            }
    imbal_image img = {16, 16, 3, px};
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/%d-pos/%03d.png", dir, cls, idx);
    cr_assert_eq(imbal_image_write_png(NULL, &img, path), IMBAL_OK, "%s", imbal_ctx_error(NULL));
}

void tiny_set_write_split(const char *split_dir, int classes, int count, int halving,
                          unsigned *seed) {
    for (int c = 0; c < classes; c++) {
        char cdir[4200];
        snprintf(cdir, sizeof cdir, "%.4000s/%d-pos", split_dir, c);
        cr_assert_eq(imbal_mkdirs(NULL, cdir), IMBAL_OK, "%s", imbal_ctx_error(NULL));
        int n = halving ? count >> c : count;
        for (int i = 0; i < n; i++)
            tiny_set_write_img(split_dir, c, i, seed);
    }
}
