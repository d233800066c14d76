"""Starting a test worker module on 2 CPU ranks with torchrun, on loopback only."""

from __future__ import annotations

import os
import subprocess
import sys


def run_two_ranks(module: str, *args: str, port: int, timeout: float) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 -m module args`` (gloo on 127.0.0.1, one thread per rank)."""
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command += ["--master_addr", "127.0.0.1", "--master_port", str(port), "-m", module, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=os.getcwd())
