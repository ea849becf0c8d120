/* imbal tests: a tiny PNG image set a small CNN learns in a few epochs. The classes are told
 * apart by where a bright square sits (class c: columns 1 + 5c .. 4 + 5c) on a noisy background of
 * random colour; 16 x 16 RGB PNGs in <split>/<c>-pos/<idx>.png. Used by test_train.c and
 * test_reliability_kill.c. */
#ifndef IMBAL_TINY_SET_H
#define IMBAL_TINY_SET_H

/* Writes dir/<cls>-pos/<idx, 3 digits>.png (the class directory must exist), drawing the noise
 * from rand_r(seed). Aborts the test (cr_assert) on failure. */
void tiny_set_write_img(const char *dir, int cls, int idx, unsigned *seed);

/* Creates split_dir/<c>-pos for c < classes and writes `count` images into each, or `count >> c`
 * (an imbalanced split: each class half the one before) when `halving` is set. The images
 * continue the rand_r stream in *seed, class by class. */
void tiny_set_write_split(const char *split_dir, int classes, int count, int halving,
                          unsigned *seed);

#endif
