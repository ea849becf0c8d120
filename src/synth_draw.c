/* imbal: drawing one synthetic image.
 *
 * A class is one or two shapes (synth_classes.c). Each shape is a signed distance function (SDF)
 * in a unit frame, placed by a random centre, scale and rotation; the pixel's coverage is the
 * fraction of a 4x4 grid of sub-samples inside the shape (supersampling only where the SDF says
 * the boundary is near), and the colour blends a random foreground over a random background
 * (with a soft gradient), plus Gaussian noise. The SDFs follow Inigo Quilez's "2D distance
 * functions" (circle, box, polygon); unions take the minimum and cuts the maximum, which keeps
 * |sdf| <= the true distance, so the "no boundary within this pixel" test is conservative. */
#include <math.h>
#include <string.h>

#include "imbal/philox.h"
#include "internal.h"
#include "synth_internal.h"

#define DEG (3.14159265358979323846f / 180.0f)

/* A pixel whose centre is further than this (in pixels) from the boundary is wholly inside or
 * outside: the sub-samples lie within 0.375*sqrt(2) = 0.53 px of the centre. */
#define AA_BAND 0.6f
#define AA_GRID 4

typedef struct part {
    int family, style;
    float cx, cy; /* centre in pixels */
    float cos_a, sin_a;
    float ppu;       /* pixels per unit of the shape frame */
    float outline_w; /* half-width of the outline band, units */
    float stripe_p;  /* period of the stripes, units */
} part;

typedef struct scene {
    int parts;
    part part[2];
} scene;

/* fminf/fmaxf are library calls (they must order NaNs); our operands are never NaN. */
static inline float min_f(float a, float b) {
    return a < b ? a : b;
}
static inline float max_f(float a, float b) {
    return a > b ? a : b;
}

static float sd_circle(float x, float y, float r) {
    return sqrtf(x * x + y * y) - r;
}

static float sd_box(float x, float y, float hx, float hy) {
    float qx = fabsf(x) - hx, qy = fabsf(y) - hy;
    float ox = max_f(qx, 0.0f), oy = max_f(qy, 0.0f);
    return sqrtf(ox * ox + oy * oy) + min_f(max_f(qx, qy), 0.0f);
}

/* Exact SDF of a simple polygon: distance to the nearest edge, sign from the crossing parity. */
static float sd_polygon(const float (*v)[2], int n, float x, float y) {
    float dx = x - v[0][0], dy = y - v[0][1];
    float d = dx * dx + dy * dy, s = 1.0f;
    for (int i = 0, j = n - 1; i < n; j = i, ++i) {
        float ex = v[j][0] - v[i][0], ey = v[j][1] - v[i][1];
        float wx = x - v[i][0], wy = y - v[i][1];
        float t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
        t = min_f(max_f(t, 0.0f), 1.0f);
        float bx = wx - ex * t, by = wy - ey * t;
        d = min_f(d, bx * bx + by * by);
        int c1 = y >= v[i][1], c2 = y<v[j][1], c3 = ex * wy> ey * wx;
        if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
    }
    return s * sqrtf(d);
}

static const float tri_v[3][2] = {{0.0f, -1.0f}, {0.866025f, 0.5f}, {-0.866025f, 0.5f}};
static const float star_v[10][2] = {{0.000000f, -1.000000f},  {0.264503f, -0.364058f},
                                    {0.951057f, -0.309017f},  {0.427975f, 0.139058f},
                                    {0.587785f, 0.809017f},   {0.000000f, 0.450000f},
                                    {-0.587785f, 0.809017f},  {-0.427975f, 0.139058f},
                                    {-0.951057f, -0.309017f}, {-0.264503f, -0.364058f}};
static const float diamond_v[4][2] = {{0.0f, -1.0f}, {0.62f, 0.0f}, {0.0f, 1.0f}, {-0.62f, 0.0f}};
static const float arrow_v[7][2] = {{-1.0f, -0.22f}, {0.15f, -0.22f}, {0.15f, -0.62f}, {1.0f, 0.0f},
                                    {0.15f, 0.62f},  {0.15f, 0.22f},  {-1.0f, 0.22f}};
static const float heart_v[3][2] = {{-0.86f, -0.12f}, {0.86f, -0.12f}, {0.0f, 0.95f}};

/* The family's SDF at (x, y) in its unit frame (y points down, as image rows do). */
static float family_sd(int family, float x, float y) {
    switch (family) {
    case IMBAL_SYNTH_DISC:
        return sd_circle(x, y, 1.0f);
    case IMBAL_SYNTH_SQUARE:
        return sd_box(x, y, 0.78f, 0.78f);
    case IMBAL_SYNTH_TRIANGLE:
        return sd_polygon(tri_v, 3, x, y);
    case IMBAL_SYNTH_CROSS:
    case IMBAL_SYNTH_X:
        return min_f(sd_box(x, y, 0.95f, 0.27f), sd_box(x, y, 0.27f, 0.95f));
    case IMBAL_SYNTH_RING:
        return fabsf(sd_circle(x, y, 0.72f)) - 0.24f;
    case IMBAL_SYNTH_BARS:
        return min_f(min_f(sd_box(x, y + 0.62f, 0.95f, 0.17f), sd_box(x, y, 0.95f, 0.17f)),
                     sd_box(x, y - 0.62f, 0.95f, 0.17f));
    case IMBAL_SYNTH_STRIPE:
        return sd_box(x, y, 1.25f, 0.3f);
    case IMBAL_SYNTH_STAR:
        return sd_polygon(star_v, 10, x, y);
    case IMBAL_SYNTH_CRESCENT:
        return max_f(sd_circle(x, y, 1.0f), -sd_circle(x - 0.45f, y, 0.82f));
    case IMBAL_SYNTH_CORNER:
        return min_f(sd_box(x + 0.5f, y, 0.28f, 0.9f), sd_box(x - 0.1f, y - 0.62f, 0.88f, 0.28f));
    case IMBAL_SYNTH_DIAMOND:
        return sd_polygon(diamond_v, 4, x, y);
    case IMBAL_SYNTH_ARROW:
        return sd_polygon(arrow_v, 7, x, y);
    case IMBAL_SYNTH_HEART:
        return min_f(
            min_f(sd_circle(x + 0.42f, y + 0.32f, 0.46f), sd_circle(x - 0.42f, y + 0.32f, 0.46f)),
            sd_polygon(heart_v, 3, x, y));
    case IMBAL_SYNTH_SEMIDISC:
        return max_f(sd_circle(x, y - 0.4f, 1.0f), y - 0.4f);
    case IMBAL_SYNTH_DOTS: {
        float ax = fabsf(x) - 0.5f, ay = fabsf(y) - 0.5f; /* four dots by symmetry */
        return sd_circle(ax, ay, 0.33f);
    }
    }
    return 1.0f;
}

/* Signed distance in pixels from pixel-space point (px, py) to the part's boundary. */
static float part_sd(const part *p, float px, float py) {
    float dx = px - p->cx, dy = py - p->cy;
    float inv = 1.0f / p->ppu;
    float x = (p->cos_a * dx + p->sin_a * dy) * inv; /* rotate by -angle into the shape frame */
    float y = (-p->sin_a * dx + p->cos_a * dy) * inv;
    float d = family_sd(p->family, x, y);
    if (p->style == IMBAL_SYNTH_OUTLINE) {
        d = fabsf(d) - p->outline_w;
    } else if (p->style == IMBAL_SYNTH_STRIPED) {
        float t = (x + y) * 0.70710678f, per = p->stripe_p;
        float m = t - per * floorf(t / per);
        d = max_f(d, fabsf(m - 0.5f * per) - 0.25f * per);
    }
    return d * p->ppu;
}

static float scene_sd(const scene *s, float px, float py) {
    float d = part_sd(&s->part[0], px, py);
    if (s->parts == 2) d = min_f(d, part_sd(&s->part[1], px, py));
    return d;
}

/* Rotation in degrees. Families that would turn into another class when rotated keep disjoint
 * ranges: cross 0+-15 vs x 45+-15 (mod 90), bars 0+-15 vs stripe 45+-15 or 135+-15 (mod 180);
 * square and diamond stay near upright. The rest turn freely. */
static float family_angle(int family, imbal_rng *r) {
    switch (family) {
    case IMBAL_SYNTH_SQUARE:
    case IMBAL_SYNTH_CROSS:
    case IMBAL_SYNTH_BARS:
        return imbal_rng_uniform_range(r, -15.0f, 15.0f);
    case IMBAL_SYNTH_X:
        return imbal_rng_uniform_range(r, 30.0f, 60.0f);
    case IMBAL_SYNTH_STRIPE: {
        float base = imbal_rng_below(r, 2) ? 135.0f : 45.0f;
        return base + imbal_rng_uniform_range(r, -15.0f, 15.0f);
    }
    case IMBAL_SYNTH_DIAMOND:
        return imbal_rng_uniform_range(r, -20.0f, 20.0f);
    case IMBAL_SYNTH_HEART:
        return imbal_rng_uniform_range(r, -25.0f, 25.0f);
    default:
        return imbal_rng_uniform_range(r, 0.0f, 360.0f);
    }
}

static void setup_part(part *p, int family, int style, float cx, float cy, float radius_px,
                       imbal_rng *r) {
    float a = family_angle(family, r) * DEG;
    p->family = family;
    p->style = style;
    p->cx = cx;
    p->cy = cy;
    p->cos_a = cosf(a);
    p->sin_a = sinf(a);
    p->ppu = radius_px;
    /* Keep outlines and stripes at least ~1.4 and 2 pixels wide so they survive 32x32. */
    p->outline_w = max_f(0.11f, 0.7f / radius_px);
    p->stripe_p = max_f(0.5f, 4.0f / radius_px);
}

static float luminance(const float c[3]) {
    return 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2]; /* ITU-R BT.709 weights */
}

/* Foreground and background uniform in the RGB cube, redrawn until their luminances differ by at
 * least 0.25. The rule is symmetric in (fg, bg), so both have the same mean colour and the mean
 * image colour carries no class information whatever the shape's area. */
static void draw_colours(imbal_rng *r, float fg[3], float bg[3]) {
    for (int attempt = 0; attempt < 64; ++attempt) {
        for (int c = 0; c < 3; ++c)
            bg[c] = imbal_rng_uniform(r);
        for (int c = 0; c < 3; ++c)
            fg[c] = imbal_rng_uniform(r);
        if (fabsf(luminance(fg) - luminance(bg)) >= 0.25f) return;
    }
    /* Reached with probability below 2^-40: black or white against the background. */
    float v = luminance(bg) < 0.5f ? 1.0f : 0.0f;
    for (int c = 0; c < 3; ++c)
        fg[c] = v;
}

static void setup_scene(scene *s, const imbal_synth_design *d, int size, imbal_rng *r) {
    float side = (float)size;
    s->parts = d->parts;
    if (d->parts == 1) {
        /* The shape's unit circle spans 40-80% of the side; its centre keeps at least 90% of
         * that circle inside the image. */
        float radius = 0.5f * side * imbal_rng_uniform_range(r, 0.4f, 0.8f);
        float margin = 0.9f * radius;
        float cx = imbal_rng_uniform_range(r, margin, side - margin);
        float cy = imbal_rng_uniform_range(r, margin, side - margin);
        setup_part(&s->part[0], d->family[0], d->style[0], cx, cy, radius, r);
        return;
    }
    /* Two shapes along an axis within 25 degrees of horizontal, the first on the left. */
    float r0 = side * imbal_rng_uniform_range(r, 0.15f, 0.22f);
    float r1 = side * imbal_rng_uniform_range(r, 0.15f, 0.22f);
    float axis = imbal_rng_uniform_range(r, -25.0f, 25.0f) * DEG;
    float mx = side * (0.5f + imbal_rng_uniform_range(r, -0.06f, 0.06f));
    float my = side * (0.5f + imbal_rng_uniform_range(r, -0.06f, 0.06f));
    float half = 0.5f * (2.0f * r0 + 2.0f * r1 + 0.06f * side);
    float ux = cosf(axis), uy = sinf(axis);
    setup_part(&s->part[0], d->family[0], d->style[0], mx - ux * (half - r0), my - uy * (half - r0),
               r0, r);
    setup_part(&s->part[1], d->family[1], d->style[1], mx + ux * (half - r1), my + uy * (half - r1),
               r1, r);
}

static float coverage(const scene *s, float px, float py) {
    float d = scene_sd(s, px, py);
    if (d >= AA_BAND) return 0.0f;
    if (d <= -AA_BAND) return 1.0f;
    int inside = 0;
    for (int j = 0; j < AA_GRID; ++j)
        for (int i = 0; i < AA_GRID; ++i) {
            float ox = ((float)i + 0.5f) / AA_GRID - 0.5f, oy = ((float)j + 0.5f) / AA_GRID - 0.5f;
            inside += scene_sd(s, px + ox, py + oy) < 0.0f;
        }
    return (float)inside * (1.0f / (AA_GRID * AA_GRID));
}

/* Standard normals two at a time: both halves of the Box-Muller pair (imbal_rng_normal keeps
 * only the cosine one), which halves the cost of the per-pixel noise. */
typedef struct normal_pair_rng {
    imbal_rng *rng;
    float spare;
    int has_spare;
} normal_pair_rng;

static float next_normal(normal_pair_rng *n) {
    if (n->has_spare) {
        n->has_spare = 0;
        return n->spare;
    }
    float u1 = (float)((imbal_rng_u32(n->rng) >> 8) + 1u) * (1.0f / 16777216.0f); /* (0, 1] */
    float u2 = imbal_rng_uniform(n->rng);
    float rad = sqrtf(-2.0f * logf(u1)), ang = 6.28318530717958647692f * u2;
    n->spare = rad * sinf(ang);
    n->has_spare = 1;
    return rad * cosf(ang);
}

static uint8_t to_byte(float v) {
    v = min_f(max_f(v, 0.0f), 1.0f);
    return (uint8_t)(v * 255.0f + 0.5f);
}

void imbal_synth_render_unchecked(int class_id, uint64_t seed, uint64_t sample, int size,
                                  uint8_t *rgb) {
    imbal_rng r;
    imbal_rng_init(&r, seed, (uint32_t)class_id, sample, IMBAL_OP_SYNTH);
    imbal_synth_design design;
    imbal_synth_design_of(class_id, &design);

    float fg[3], bg[3];
    draw_colours(&r, fg, bg);
    /* A soft linear background gradient: up to +-0.12 across the image in a random direction. */
    float g_amp = imbal_rng_uniform_range(&r, 0.0f, 0.12f);
    float g_dir = imbal_rng_uniform_range(&r, 0.0f, 360.0f) * DEG;
    float gx = g_amp * cosf(g_dir) / (float)size, gy = g_amp * sinf(g_dir) / (float)size;
    float sigma = imbal_rng_uniform_range(&r, 0.01f, 0.04f); /* 2.5 to 10 grey levels */
    scene s;
    setup_scene(&s, &design, size, &r);

    normal_pair_rng noise = {&r, 0.0f, 0};
    float half = 0.5f * (float)size;
    for (int y = 0; y < size; ++y) {
        float py = (float)y + 0.5f;
        for (int x = 0; x < size; ++x) {
            float px = (float)x + 0.5f;
            float cov = coverage(&s, px, py);
            float shade = gx * (px - half) + gy * (py - half);
            uint8_t *out = rgb + ((size_t)y * (size_t)size + (size_t)x) * 3;
            for (int c = 0; c < 3; ++c) {
                float b = bg[c] + shade;
                float v = b + (fg[c] - b) * cov + sigma * next_normal(&noise);
                out[c] = to_byte(v);
            }
        }
    }
}

imbal_status imbal_synth_render(imbal_ctx *ctx, int class_id, uint64_t seed, uint64_t sample,
                                int size, uint8_t *rgb) {
    if (class_id < 0 || class_id >= IMBAL_SYNTH_MAX_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_synth_render: class %d is outside 0..%d", class_id,
                          IMBAL_SYNTH_MAX_CLASSES - 1);
    if (size < 8 || size > 1024)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--size must be in 8..1024, got %d",
                          size);
    if (sample > IMBAL_SYNTH_MAX_SAMPLE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_synth_render: sample %llu exceeds 2^56 - 1 (Philox keys 56 bits)",
                          (unsigned long long)sample);
    if (!rgb) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_synth_render: rgb is NULL");
    imbal_synth_render_unchecked(class_id, seed, sample, size, rgb);
    return IMBAL_OK;
}
