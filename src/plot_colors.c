/* imbal: the plot colours. viridis (van der Walt and Smith, matplotlib 2.0's default map:
 * perceptually uniform, readable in grey and by colour-blind readers) sampled at 17 points from
 * matplotlib and interpolated linearly; tab10 (matplotlib's default qualitative cycle) for series.
 */
#include <math.h>

#include "plot_internal.h"

static const uint8_t viridis17[17][3] = {
    {68, 1, 84},    {72, 24, 106},  {71, 45, 123},  {66, 64, 134},  {59, 82, 139},  {51, 99, 141},
    {44, 114, 142}, {38, 130, 142}, {33, 145, 140}, {31, 160, 136}, {40, 174, 128}, {63, 188, 115},
    {94, 201, 98},  {132, 212, 75}, {173, 220, 48}, {216, 226, 25}, {253, 231, 37},
};

imbal_rgb imbal_colormap_viridis(double t) {
    if (!(t > 0)) t = 0; /* NaN too */
    if (t > 1) t = 1;
    double f = t * 16;
    int i = (int)f;
    if (i >= 16) return (imbal_rgb){viridis17[16][0], viridis17[16][1], viridis17[16][2]};
    double w = f - i;
    uint8_t ch[3];
    for (int k = 0; k < 3; ++k)
        ch[k] = (uint8_t)lround(viridis17[i][k] * (1 - w) + viridis17[i + 1][k] * w);
    return (imbal_rgb){ch[0], ch[1], ch[2]};
}

imbal_rgb imbal_palette_tab10(int i) {
    static const uint8_t tab10[10][3] = {
        {0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
        {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
        {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf},
    };
    i %= 10;
    if (i < 0) i += 10;
    return (imbal_rgb){tab10[i][0], tab10[i][1], tab10[i][2]};
}

imbal_rgb imbal_text_on(imbal_rgb bg) {
    /* Rec. 709 luma on gamma-encoded values: cheap and good enough to pick black or white. */
    double y = 0.2126 * bg.r + 0.7152 * bg.g + 0.0722 * bg.b;
    return y > 140 ? (imbal_rgb){0, 0, 0} : (imbal_rgb){255, 255, 255};
}
