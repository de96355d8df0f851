"""A Lightning callback that writes, per process, the training examples of each epoch's shard
(importable by the processes Lightning spawns, unlike a class defined in a test module)."""

import json
from pathlib import Path

import lightning as L


class ShardRecorder(L.Callback):
    """Writes rank{r}_epoch{e}.json with the example indices process r draws in epoch e."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        sampler = trainer.train_dataloader.sampler
        record = {"world": trainer.world_size, "indices": list(sampler), "draw": sampler.epoch_order().tolist()}
        path = Path(self.folder) / f"rank{trainer.global_rank}_epoch{trainer.current_epoch}.json"
        path.write_text(json.dumps(record))
