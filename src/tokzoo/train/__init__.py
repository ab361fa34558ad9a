"""Training: config, loop (HF Accelerate), checkpoints, logs."""

from tokzoo.train.config import ConfigError, TrainConfig, load_config
from tokzoo.train.trainer import Trainer, train

__all__ = ["ConfigError", "TrainConfig", "Trainer", "load_config", "train"]
