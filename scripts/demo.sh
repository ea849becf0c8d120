#!/usr/bin/env bash
# The main job: set up, build, and run the end-to-end demo on the built-in synthetic long-tailed
# set: synthesize it, print its statistics, the class weights and what the samplers draw, then train
# a plain cross-entropy baseline and a rebalanced run, evaluate both on the balanced test split and
# compare them class by class. On the GPU when one answers, else on the CPU (a few minutes on 2
# cores). DEMO_EPOCHS overrides the number of epochs.
#   scripts/demo.sh [OUT_DIR]     (default: demo-data/ in the repository)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/demo-data}
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
imbal=$root/build/imbal
data=$out/lt10

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

mkdir -p "$out"
step "Synthesize 10 shape classes, exponential profile, imbalance ratio 100" \
  "$imbal" synth --out "$data" --classes 10 --max-per-class 1000 --ratio 100 --size 32 \
  --test-per-class 100 --seed 0
step "Class statistics of the training split (effective numbers for beta = 0.999)" \
  "$imbal" stats "$data/train" --beta 0.999
step "Class weights: scikit-learn's 'balanced' (N / (K n_c))" \
  "$imbal" weights "$data/train" --scheme balanced
step "Class weights: effective number (Cui et al. 2019), beta 0.999" \
  "$imbal" weights "$data/train" --scheme ens --beta 0.999
step "Plain shuffle: one epoch draws each class as often as it occurs" \
  "$imbal" sample "$data/train" --sampler shuffle --epochs 1 --seed 0
step "Class-balanced sampling (Kang et al. 2020): every class drawn about equally" \
  "$imbal" sample "$data/train" --sampler class-balanced --epochs 2 --seed 0
step "Rotating undersampling: every sample seen within n_max/n_min epochs" \
  "$imbal" sample "$data/train" --sampler rotating-undersample --epochs 3 --seed 0

# ResNet-8, SGD 0.1 with cosine decay, 30 epochs: about 2.5 minutes a run on 2 CPU cores. With
# 2478 training images the features form only after ~10 epochs (docs/training.md, "The demo").
epochs=${DEMO_EPOCHS:-30}
common=(--data "$data/train" --val "$data/test" --arch resnet8 --epochs "$epochs" --batch 64
        --lr 0.1 --seed 0)
step "Baseline: plain cross-entropy, shuffled batches ($epochs epochs)" \
  "$imbal" train "${common[@]}" --out "$out/run-ce"
step "Rebalanced: balanced softmax (Ren et al. 2020)" \
  "$imbal" train "${common[@]}" --loss balanced-softmax --out "$out/run-balanced"
step "Evaluate both on the balanced test split" \
  "$imbal" eval --model "$out/run-ce" --data "$data/test"
"$imbal" eval --model "$out/run-balanced" --data "$data/test"
step "Baseline (A) against the rebalanced run (B): summary, then per class" \
  "$imbal" compare "$out/run-ce" "$out/run-balanced"
printf '\nReports: %s/run-ce/report.md and %s/run-balanced/report.md\n' "$out" "$out"
printf 'Pictures: confusion.png, confusion_normalized.png, recall_vs_count.png, curves_*.png in each\n'
printf 'run directory; compare.png in %s/run-balanced.\n' "$out"
