"""Optional neural backend: local MarianMT models through ``transformers`` (not a dependency).

Only local model folders are used (``local_files_only=True``); nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .translator import BackendUnavailableError

__all__ = ["MarianTranslator"]


class MarianTranslator:
    """Translate with local MarianMT checkpoints, one ``generate`` call per batch.

    Args:
        models: ``(source, target) -> local model directory``, e.g.
            ``{("en", "es"): "/models/opus-mt-en-es", ("es", "en"): "/models/opus-mt-es-en"}``.
        device: Torch device string.
        max_length: Maximum generated length in tokens.
        num_beams: Beam width.
    """

    def __init__(
        self, models: Mapping[tuple[str, str], str], device: str = "cpu", max_length: int = 256, num_beams: int = 4
    ) -> None:
        if not models:
            raise ValueError("models must map at least one (source, target) pair to a model directory")
        self.models = dict(models)
        self.device = device
        self.max_length = max_length
        self.num_beams = num_beams
        self.name = "marian:" + ",".join(f"{s}-{t}={p}" for (s, t), p in sorted(self.models.items()))
        self._loaded: dict[tuple[str, str], tuple[Any, Any]] = {}

    def _load(self, pair: tuple[str, str]) -> tuple[Any, Any]:
        if pair not in self._loaded:
            if pair not in self.models:
                raise BackendUnavailableError(f"no MarianMT model configured for {pair[0]}->{pair[1]}")
            try:
                from transformers import MarianMTModel, MarianTokenizer
            except ImportError as exc:
                raise BackendUnavailableError(
                    "MarianTranslator needs the 'transformers' and 'sentencepiece' packages"
                ) from exc
            path = self.models[pair]
            tok = MarianTokenizer.from_pretrained(path, local_files_only=True)
            model = MarianMTModel.from_pretrained(path, local_files_only=True).to(self.device).eval()
            self._loaded[pair] = (tok, model)
        return self._loaded[pair]

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate the batch with one tokenizer call and one ``generate`` call."""
        import torch

        tok, model = self._load((source, target))
        batch = tok(list(texts), return_tensors="pt", padding=True, truncation=True).to(self.device)
        with torch.inference_mode():
            out = model.generate(**batch, max_length=self.max_length, num_beams=self.num_beams)
        return tok.batch_decode(out, skip_special_tokens=True)
