"""What every trainer adapter starts from: Memory-R1's training tuples, rewarded per step."""

from __future__ import annotations

from typing import Any

TEXT_ENV_KWARGS: dict[str, Any] = {"episode": "window", "reward_schedule": "step"}


def plain_config(config: Any) -> dict[str, Any]:
    """A trainer's env config as a dict (it may be an OmegaConf DictConfig from Hydra)."""
    if config is None:
        return {}
    if type(config).__name__ == "DictConfig":
        from omegaconf import OmegaConf

        # omegaconf's return type differs between releases; a mapping here by construction.
        container: Any = OmegaConf.to_container(config, resolve=True)
        return dict(container)
    return dict(config)
