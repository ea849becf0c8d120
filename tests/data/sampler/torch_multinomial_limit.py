"""Records what torch.multinomial (behind torch.utils.data.WeightedRandomSampler) does with more
than 2^24 categories, the limit docs/sampling.md cites. Run with /usr/bin/python3 (torch 1.13);
writes torch_multinomial_limit.txt beside this script. imbal's alias table takes up to 2^32
categories (tests/test_alias.c draws from 2^25)."""
import os

import torch

out = []
for n in (2 ** 24, 2 ** 24 + 1, 2 ** 25):
    w = torch.ones(n, dtype=torch.float64)
    try:
        torch.multinomial(w, 4, replacement=True, generator=torch.Generator().manual_seed(0))
        out.append(f"torch {torch.__version__} multinomial n={n}: ok")
    except RuntimeError as e:
        out.append(f"torch {torch.__version__} multinomial n={n}: RuntimeError: {e}")
    try:
        s = torch.utils.data.WeightedRandomSampler(w.tolist(), 4, generator=torch.Generator().manual_seed(0))
        list(s)
        out.append(f"torch {torch.__version__} WeightedRandomSampler n={n}: ok")
    except RuntimeError as e:
        out.append(f"torch {torch.__version__} WeightedRandomSampler n={n}: RuntimeError: {e}")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_multinomial_limit.txt")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print("\n".join(out))
