"""Per-block losses of an encoded table, evaluated for all blocks at once.

A table's network output has one slice per column (``blocks``: categorical logits, numerical
values). Looping over the slices costs a full-width zero tensor per slice in the backward pass
(the gradient of ``out[:, a:b]``): on Adult (14 blocks) zero fills, copies and the label
``index_put`` took about 12 of a teacher step's 49 ms (``torch.profiler``). Here all categorical
columns are handled as one matrix with a block id per column (a segment softmax), so a loss is a
handful of batched operations. ``tests/test_fast_losses.py`` checks values and gradients against
the per-slice definitions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

Block = tuple[str, int, int]  # (kind "categorical" | "numerical", start, stop)


def ordinal_positions(width: int) -> torch.Tensor:
    """Bin positions 0 … width−1 scaled to mean 0 and unit variance (of a uniform position)."""
    return (torch.arange(width, dtype=torch.float32) / max(width - 1, 1) - 0.5) * 12 ** 0.5


class BlockLosses(nn.Module):
    """Batched cross-entropy / KL over the categorical blocks, squared error over the numerical
    columns and the ordinal term of the ``ordinal`` blocks, for one block layout.

    The categorical columns are taken together as one (n, C) matrix with a block id per column;
    a block's softmax is a segment softmax: exp(x − m_block) / Σ_block exp(x − m_block), with
    the block maxima m (no gradient needed) from one ``scatter_reduce``. Block sums and the
    spreading of per-block values back to their columns are products with the (C, blocks)
    0/1 membership matrix: on Adult's layout (13 blocks, 258 columns, 2,048 rows) the
    reconstruction's forward + backward took 5.6 ms with ``index_add`` / ``index_select``
    (scatters in the backward) and 3.6 ms with the products, same values and gradients
    (a teacher epoch 0.31 → 0.30 s at 2 threads, ``benchmarks/bench_fair_latent_fit.py --what
    steps``).
    """

    def __init__(self, blocks: Sequence[Block], ordinal: Sequence[tuple[int, int]] = ()) -> None:
        super().__init__()
        cats = [(int(a), int(b)) for k, a, b in blocks if k == "categorical"]
        ordinal = {(int(a), int(b)) for a, b in ordinal}
        if ordinal - set(cats):
            raise ValueError(f"ordinal slices {sorted(ordinal - set(cats))} are not categorical "
                             f"blocks of {list(blocks)}")
        columns = [c for a, b in cats for c in range(a, b)]
        block_id = [i for i, (a, b) in enumerate(cats) for _ in range(a, b)]
        positions = torch.cat([ordinal_positions(b - a) if (a, b) in ordinal else torch.zeros(b - a)
                               for a, b in cats]) if cats else torch.zeros(0)
        is_ordinal = torch.tensor([float((a, b) in ordinal) for a, b in cats])
        numerical = [c for k, a, b in blocks if k != "categorical" for c in range(int(a), int(b))]
        block_id = torch.as_tensor(block_id, dtype=torch.long)
        membership = torch.nn.functional.one_hot(block_id, len(cats)).float() if cats else torch.zeros(0, 0)
        for name, value in (("cat_columns", torch.as_tensor(columns, dtype=torch.long)),
                            ("block_id", block_id), ("membership", membership),
                            ("membership_t", membership.T.contiguous()),
                            ("positions", positions), ("is_ordinal", is_ordinal),
                            ("num_index", torch.as_tensor(numerical, dtype=torch.long))):
            self.register_buffer(name, value, persistent=False)
        self.n_blocks = len(cats)
        #: every column is categorical and in order (a binned table): no gather needed
        self._all_columns = columns == list(range(len(columns))) and not numerical
        self.has_ordinal = bool(ordinal)

    def _categorical(self, t: torch.Tensor) -> torch.Tensor:
        return t if self._all_columns and t.shape[1] == len(self.cat_columns) else t[:, self.cat_columns]

    def _block_sum(self, values: torch.Tensor) -> torch.Tensor:
        """(n, C) → (n, blocks): the sum of each block's columns."""
        return values @ self.membership.to(values.dtype)

    def _spread(self, per_block: torch.Tensor) -> torch.Tensor:
        """(n, blocks) → (n, C): each block's value on each of its columns."""
        return per_block @ self.membership_t.to(per_block.dtype)

    def _log_probs(self, out: torch.Tensor) -> torch.Tensor:
        """(n, C) log-softmax of each categorical block, in column order."""
        logits = self._categorical(out)
        index = self.block_id.expand(logits.shape[0], -1)
        top = logits.detach().new_full((logits.shape[0], self.n_blocks), -torch.inf)
        top = self._spread(top.scatter_reduce(1, index, logits.detach(), reduce="amax"))
        shifted = logits - top
        return shifted - self._spread(self._block_sum(shifted.exp()).log())

    def _squared_error(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if not len(self.num_index):
            return a.new_zeros(())
        return (a[:, self.num_index] - b[:, self.num_index]).pow(2).mean(0).sum()

    def _ordinal(self, logp: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        gap = self._block_sum((logp.exp() - target) * self.positions)  # expected − true position
        return (gap.pow(2).mean(0) * self.is_ordinal).sum()

    def reconstruction(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Σ_blocks mean cross-entropy + Σ_numerical columns mean squared error
        (+ Σ_ordinal blocks mean squared error of the expected bin position)."""
        total = self._squared_error(out, x)
        if not self.n_blocks:
            return total
        logp = self._log_probs(out)
        target = self._categorical(x)
        total = total - (target * logp).sum(1).mean()
        return total + self._ordinal(logp, target) if self.has_ordinal else total

    def ordinal(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The ordinal term alone (see :func:`fairx.nn._fair_vae.ordinal_bin_loss`)."""
        if not self.has_ordinal:
            return out.new_zeros(())
        return self._ordinal(self._log_probs(out), self._categorical(x))

    def distillation(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Σ_blocks mean KL(teacher ‖ student) + Σ_numerical columns mean squared error."""
        total = self._squared_error(student, teacher)
        if not self.n_blocks:
            return total
        p = self._log_probs(teacher)
        return total + (p.exp() * (p - self._log_probs(student))).sum(1).mean()
