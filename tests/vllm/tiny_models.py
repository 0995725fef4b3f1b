# SPDX-License-Identifier: MIT
"""Tiny randomly initialised Qwen2-VL and Qwen2-Audio model directories, made on this machine.

Nothing is downloaded: the tokenizer is a byte-level BPE of the 256 byte tokens and the model's
special tokens (no merges), the weights are transformers' random initialisation under a fixed
seed, the processors are transformers' defaults with small pixel bounds. vLLM reads such a
directory like a hub checkout (`ModelConfig(model=<dir>)`, `vllm serve <dir>`); what the tests
need from it is the architecture, the processor and the chat template, not sensible outputs.

    python tests/vllm/tiny_models.py qwen2vl OUT_DIR     # build one into OUT_DIR
    tiny_models.cached("qwen2vl")                        # build once, reuse (a temp dir)

Building imports torch and transformers, so `cached()` runs it in a child interpreter (the
current one, `sys.executable`): the test process gets a path and none of the builder's threads
or descriptors. The cache is keyed by this file's text and the transformers version, and a
finished directory appears by rename, so parallel sessions never see a half-written one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

KINDS = ("qwen2vl", "qwen2audio")

# The chat template both models get: text, images and audio in OpenAI order. vLLM renders the
# multimodal placeholders itself with content_format="string"; with "openai" this template sees
# the parts, so it has to know them.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}"
    "{% if c['type'] == 'image' or c['type'] == 'image_url' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'audio' or c['type'] == 'input_audio' or c['type'] == 'audio_url' %}"
    "<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

VL_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
AUDIO_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]


def _tokenizer(specials: list[str]):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import Qwen2TokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(specials)
    fast = Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_qwen2vl(out: Path) -> None:
    import torch
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor

    tok = _tokenizer(VL_SPECIALS)
    tok.save_pretrained(out)
    ids = {s: tok.convert_tokens_to_ids(s) for s in VL_SPECIALS}
    vocab = len(tok)
    cfg = Qwen2VLConfig(
        text_config={
            "vocab_size": vocab,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": 2048,
            "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]},
            "rope_theta": 10000.0,
            "tie_word_embeddings": True,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
        },
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 64,
            "num_heads": 2,
            "mlp_ratio": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "in_channels": 3,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        vocab_size=vocab,
    )
    cfg.torch_dtype = "float32"
    torch.manual_seed(0)
    Qwen2VLForConditionalGeneration(cfg).save_pretrained(out)
    # Small bounds: an image becomes at most 64 merged patches, whatever its size.
    Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=28 * 28 * 64).save_pretrained(out)


def build_qwen2audio(out: Path) -> None:
    import torch
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

    tok = _tokenizer(AUDIO_SPECIALS)
    tok.save_pretrained(out)
    cfg = Qwen2AudioConfig(
        audio_config={
            "d_model": 32,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 64,
            "num_mel_bins": 128,
            "max_source_positions": 1500,
        },
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(tok),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": 4096,
        },
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    Qwen2AudioForConditionalGeneration(cfg).save_pretrained(out)
    WhisperFeatureExtractor(feature_size=128).save_pretrained(out)


def build(kind: str, out: Path) -> Path:
    """Write the tiny model `kind` (one of KINDS) into `out`, in this process."""
    if kind not in KINDS:
        raise ValueError(f"unknown tiny model {kind!r}; one of {KINDS}")
    out.mkdir(parents=True, exist_ok=True)
    {"qwen2vl": build_qwen2vl, "qwen2audio": build_qwen2audio}[kind](out)
    return out


def _key() -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for dist in ("transformers", "tokenizers"):
        try:
            h.update(f"{dist}={importlib.metadata.version(dist)}".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{dist}=absent".encode())
    return h.hexdigest()[:16]


def cached(kind: str, root: Path | None = None) -> Path:
    """The directory of the tiny model `kind`, built by a child interpreter on first use.

    `root` defaults to $AIRLOCK_TINY_MODELS, else the temp dir; the directory's name carries the
    key, so a changed builder or transformers makes a new one."""
    if kind not in KINDS:
        raise ValueError(f"unknown tiny model {kind!r}; one of {KINDS}")
    base = root or Path(os.environ.get("AIRLOCK_TINY_MODELS") or tempfile.gettempdir())
    out = base / f"airlock-tiny-{kind}-{os.getuid()}-{_key()}"
    if (out / "config.json").is_file():
        return out
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp", dir=base))
    try:
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        done = subprocess.run(
            [sys.executable, __file__, kind, str(tmp)], env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the tiny {kind} failed ({done.returncode}): {done.stderr[-2000:]}")
        os.rename(tmp, out)
    except OSError:
        if not (out / "config.json").is_file():  # not another session's rename: a real failure
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


_CONFIGS: dict[tuple[str, str], Any] = {}


def model_config(kind: str, allowed_local_media_path: str | os.PathLike[str] = "") -> Any:
    """A vllm.config.ModelConfig over the tiny model `kind`, made once per process and path (vLLM
    takes tens of seconds to make one here: it reads the config through transformers)."""
    from vllm.config import ModelConfig

    key = (kind, str(allowed_local_media_path))
    if key not in _CONFIGS:
        _CONFIGS[key] = ModelConfig(model=str(cached(kind)), allowed_local_media_path=str(allowed_local_media_path))
    return _CONFIGS[key]


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(KINDS)}}} OUT_DIR")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    build(sys.argv[1], Path(sys.argv[2]))
    print(sorted(p.name for p in Path(sys.argv[2]).iterdir()))
