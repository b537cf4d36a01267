"""Shared test fixtures. Tests never need real data files: those that use them skip when the
files are absent (see `real_locomo_dir`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def real_locomo_dir() -> Path:
    """$MEMGYM_LOCOMO_DIR, a folder with the real `locomo_conv26.json` (one conversation of
    the official release in the per-file layout); the project's development checkout keeps
    one beside the repository, used when the variable is unset."""
    value = os.environ.get("MEMGYM_LOCOMO_DIR")
    return Path(value) if value else REPO.parent / "shared" / "data" / "locomo"


@pytest.fixture
def conv26_path() -> Path:
    """The real LoCoMo conv-26 file, or skip."""
    path = real_locomo_dir() / "locomo_conv26.json"
    if not path.exists():
        pytest.skip("set MEMGYM_LOCOMO_DIR to a folder with locomo_conv26.json to run this test")
    return path


@pytest.fixture
def locomo10_path() -> Path:
    """The real official locomo10.json named by $MEMGYM_LOCOMO10, or skip."""
    value = os.environ.get("MEMGYM_LOCOMO10")
    if not value or not Path(value).exists():
        pytest.skip("set MEMGYM_LOCOMO10 to the official locomo10.json to run this test")
    return Path(value)


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Embedding caches go to a temporary folder, never the user's home."""
    os.environ["MEMGYM_CACHE_DIR"] = str(tmp_path_factory.mktemp("memgym-cache"))
