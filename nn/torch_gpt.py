"""``nn.GPT`` as a PyTorch module: the way out for the text model, as ``to_torch`` gives it.

``nn.torch_bridge.to_torch(gpt)`` builds a ``TorchGPT``: the same forward
pass as ``nn.gpt``, a whole sequence (or a batch of them) at once, with float64
copies of the parameters under microgpt's names, so that
``dict(module.named_parameters())`` has the keys of ``gpt.state_dict()``
("wte", "wpe", "lm_head", "layer0.attn_wq", ...) and the same shapes.

This file imports torch at the top, so only ``to_torch`` imports it, when it
is handed a GPT: ``import nn`` never needs PyTorch.
"""

from __future__ import annotations

import math

import torch

from nn.gpt import GPT, RMS_EPS, Block

__all__ = ["TorchGPT"]


def _parameter(rows: list[list]) -> torch.nn.Parameter:
    """A float64 copy of a matrix of Values (never torch's default dtype, which would round them)."""
    return torch.nn.Parameter(torch.tensor([[v.data for v in row] for row in rows], dtype=torch.float64))


def _rmsnorm(x: torch.Tensor) -> torch.Tensor:
    """x / sqrt(mean(x**2) + 1e-5) over the last dimension, as ``nn.gpt.rmsnorm``."""
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + RMS_EPS)


class TorchBlock(torch.nn.Module):
    """One layer: causal self-attention over all positions at once, then the MLP, each added on."""

    def __init__(self, block: Block) -> None:
        super().__init__()
        for name, matrix in block.matrices.items():
            self.register_parameter(name, _parameter(matrix))
        self.n_head = block.n_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, T, n_embd) -> the same shape."""
        batch, T, n_embd = x.shape
        head_dim = n_embd // self.n_head
        h = _rmsnorm(x)
        # (batch, n_head, T, head_dim): head h takes its slice of each query, key and value
        q, k, v = ((h @ w.T).view(batch, T, self.n_head, head_dim).transpose(1, 2)
                   for w in (self.attn_wq, self.attn_wk, self.attn_wv))
        scores = q @ k.transpose(-2, -1) / math.sqrt(head_dim)
        later = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        weights = torch.softmax(scores.masked_fill(later, -math.inf), dim=-1)  # e**-inf = 0: no weight on the future
        heads = (weights @ v).transpose(1, 2).reshape(batch, T, n_embd)
        x = x + heads @ self.attn_wo.T
        return x + torch.relu(_rmsnorm(x) @ self.mlp_fc1.T) @ self.mlp_fc2.T


class TorchGPT(torch.nn.Module):
    """``nn.GPT`` in PyTorch: ``module(tokens)`` gives the logits, shape (..., T, vocab_size).

    ``tokens`` is a LongTensor of ids, shape (T,) for one sequence or
    (batch, T) for several of the same length, T at most ``block_size``.
    """

    def __init__(self, model: GPT) -> None:
        super().__init__()
        self.wte, self.wpe, self.lm_head = (_parameter(m) for m in (model.wte, model.wpe, model.lm_head))
        for layer in model.layers:
            self.add_module(layer.name, TorchBlock(layer))  # "layer0": its parameters are "layer0.attn_wq", ...
        self.layer_names = [layer.name for layer in model.layers]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        batch = tokens if tokens.dim() == 2 else tokens.unsqueeze(0)
        x = _rmsnorm(self.wte[batch] + self.wpe[:batch.shape[1]])
        for name in self.layer_names:
            x = getattr(self, name)(x)
        logits = x @ self.lm_head.T  # no final norm, as in microgpt
        return logits if tokens.dim() == 2 else logits.squeeze(0)
