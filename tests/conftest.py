import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

# two xdist workers on a 2-core machine: one torch thread each
torch.set_num_threads(1)
