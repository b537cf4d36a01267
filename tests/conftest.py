"""Shared test fixtures. Tests never need ../shared; real-data tests skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_CONV26 = REPO.parent / "shared" / "data" / "locomo" / "locomo_conv26.json"


@pytest.fixture
def conv26_path() -> Path:
    """The real LoCoMo conv-26 file from ../shared, or skip."""
    if not SHARED_CONV26.exists():
        pytest.skip(f"real LoCoMo file not present at {SHARED_CONV26}")
    return SHARED_CONV26


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
