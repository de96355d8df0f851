"""Training processes destroy their gloo process group at exit (a group alive at interpreter
shutdown can abort the process), registered once per process."""

import subprocess
import sys

CODE = """
import atexit, os, socket
from types import SimpleNamespace
import torch.distributed as dist
from s4ts._distributed import ProcessGroupCleanup

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
dist.init_process_group("gloo", rank=0, world_size=1)
atexit.register(lambda: print("initialized at exit:", dist.is_initialized()))  # runs last (LIFO)
before = atexit._ncallbacks()
cleanup = ProcessGroupCleanup()
cleanup.setup(SimpleNamespace(world_size=1), None, "fit")  # one process: nothing to do
print("registered for one process:", atexit._ncallbacks() - before)
for _ in range(2):
    cleanup.setup(SimpleNamespace(world_size=2), None, "fit")
print("registered for two fits:", atexit._ncallbacks() - before)
"""


def test_a_training_process_destroys_its_group_at_exit():
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [
        "registered for one process: 0",
        "registered for two fits: 1",
        "initialized at exit: False",
    ]
