// Host emulation of the CUDA loss kernels' per-row / per-element maths (kernels/loss_math.cuh).
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cmath>
#include <algorithm>
#include "loss_math.cuh"
using namespace loss_kernels;
int main() {
    int kind; long n, c; float eps, gamma, alpha, tau, mmax, sl; int has_cw, has_sw;
    if (scanf("%d %ld %ld %f %f %f %f %f %f %d %d", &kind, &n, &c, &eps, &gamma, &alpha, &tau, &mmax, &sl, &has_cw, &has_sw) != 11) return 1;
    std::vector<float> x(n * c), cw(c), sw(n), cnt(c), pw(c), tsig(n * c);
    std::vector<long> y(n);
    for (auto &v : x) scanf("%f", &v);
    bool softmax = kind == 0 || kind == 1 || kind == 4 || kind == 5;
    if (softmax) for (auto &v : y) scanf("%ld", &v); else for (auto &v : tsig) scanf("%f", &v);
    for (auto &v : cw) scanf("%f", &v);
    for (auto &v : sw) scanf("%f", &v);
    for (auto &v : cnt) scanf("%f", &v);
    for (auto &v : pw) scanf("%f", &v);
    std::vector<float> loss(softmax ? n : n * c), grad(n * c);
    if (softmax) {
        std::vector<float> bias(c, 0.f), delta(c, 0.f);
        double N = 0; float nmin = INFINITY;
        for (long j = 0; j < c; ++j) { N += cnt[j]; if (cnt[j] > 0) nmin = std::min(nmin, cnt[j]); }
        for (long j = 0; j < c; ++j) { bias[j] = tau * logf((float)(cnt[j] / N)); delta[j] = mmax * powf(nmin / cnt[j], 0.25f); }
        float A = kind == 5 ? sl : 1.f;
        float wsum = 0; for (long j = 0; j < c; ++j) wsum += has_cw ? cw[j] : 1.f;
        for (long i = 0; i < n; ++i) {
            long yi = y[i];
            float shift = kind == 5 ? A * delta[yi] : 0.f;
            std::vector<float> z(c);
            float m = -INFINITY, S = 0, swz = 0;
            for (long j = 0; j < c; ++j) { z[j] = A * x[i*c+j] + (kind == 4 ? bias[j] : 0.f) - (j == yi ? shift : 0.f); m = fmaxf(m, z[j]); }
            for (long j = 0; j < c; ++j) { S += expf(z[j] - m); swz += (has_cw ? cw[j] : 1.f) * z[j]; }
            float wy = has_cw ? cw[yi] : 1.f, s = has_sw ? sw[i] : 1.f;
            RowStats st{m, S, z[yi], swz};
            RowOut o = kind == 1 ? focal_row(gamma, wy, s, st, A) : ce_row(kind == 1 ? 0.f : eps, (float)c, wsum, wy, s, st, A);
            loss[i] = o.loss;
            for (long j = 0; j < c; ++j) {
                float p = expf(z[j] - m) * (1.f / S);
                float g = o.a1 * (j == yi ? p - 1.0f : p);
                if (o.a2 != 0.f) g += o.a2 * (o.wsum * p - (has_cw ? cw[j] : 1.f));
                grad[i*c+j] = g;
            }
        }
    } else {
        for (long i = 0; i < n; ++i) for (long j = 0; j < c; ++j) {
            float w = (has_cw ? cw[j] : 1.f) * (has_sw ? sw[i] : 1.f);
            ElemOut o = sigmoid_elem(kind == 3, gamma, alpha, x[i*c+j], tsig[i*c+j], w, kind == 3 ? pw[j] : 1.f);
            loss[i*c+j] = o.loss; grad[i*c+j] = o.grad;
        }
    }
    for (float v : loss) printf("%.9g\n", v);
    for (float v : grad) printf("%.9g\n", v);
    return 0;
}
