"""Export a sentence-transformers BERT model to ONNX once, in a process of its own (needs torch).

Run as `python -m core.onnx_export MODEL_DIR OUT [--int8]`. The bot calls it through
`export_model`, so PyTorch is imported only here, never in a process that answers customers.
The exported graph takes input_ids, attention_mask and token_type_ids and returns the mean of
the last hidden states over the real tokens (the model's pooling), not yet normalised.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def export_model(model_dir: Path, out: Path, int8: bool, timeout: float = 600.0) -> None:
    """Write the ONNX file for model_dir to out, from a child process; raise if it fails."""
    command = [sys.executable, "-m", "core.onnx_export", str(model_dir), str(out)]
    if int8:
        command.append("--int8")
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not out.is_file():
        for leftover in out.parent.glob(out.name + "*"):  # the traced graph, the fp32 copy
            leftover.unlink(missing_ok=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"could not export the embedding model to ONNX: {tail}")


def _export(model_dir: Path, out: Path, int8: bool) -> None:
    """Trace the model with torch and write it (int8: dynamic quantization of the weights)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer

    # Eager attention traces to the pattern ONNX Runtime's optimizer fuses into one Attention
    # node per layer: half the peak memory of the traced SDPA graph on 256-token batches.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["hello", "a longer example sentence"], padding=True, return_tensors="pt")
    args = tuple(sample[name] for name in INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    axes["embedding"] = {0: "batch"}
    traced = out.with_name(out.name + ".traced")
    with torch.no_grad():
        torch.onnx.export(
            _mean_pooled(model),
            args,
            str(traced),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    _fuse(traced, out, model.config)
    traced.unlink()
    if int8:
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fused = out.with_name(out.name + ".fp32")
        out.replace(fused)
        # Shape inference cannot type the fused nodes' outputs; they are all float32.
        quantize_dynamic(
            str(fused),
            str(out),
            weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
        fused.unlink()


def _fuse(traced: Path, out: Path, config: Any) -> None:
    """ONNX Runtime's BERT optimizer: attention, layer norms and GELU fused into single nodes."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(traced),
        model_type="bert",
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
    )
    fused.save_model_to_file(str(out))


def _mean_pooled(model: Any) -> Any:
    """The model followed by mean pooling over the attention mask, as one torch module."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    return MeanPooled().eval()


def main(argv: list[str] | None = None) -> int:
    """Command line: MODEL_DIR OUT [--int8]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args(argv)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes are expected
        _export(args.model_dir, args.out, args.int8)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
