"""TabFairGAN and DECAF: planted-bias behaviour and the generator contract.

Each model is trained once (fast preset, 2000 planted-bias rows with bias = 0.8: P(yes | A)
≈ 0.61, P(yes | B) ≈ 0.12, data-level DPR ≈ 0.2) and shared by the tests of this module.
Thresholds were set below the values observed on CPU (in brackets).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.data import DatasetError, TabularDataset, make_synthetic
from fairx.models import FairGenerator, get
from fairx.models.persist import load_method

torch = pytest.importorskip("torch")

# the planted structure, with the latent merit represented by skill
DAG = [("group", "proxy"), ("group", "region"), ("group", "test_score"), ("group", "hired"),
       ("skill", "test_score"), ("skill", "years"), ("skill", "hired"), ("test_score", "hired")]


def data_dpr(ds: TabularDataset) -> float:
    s, y = ds.s.to_numpy(), ds.y
    rates = [y[s == g].mean() for g in np.unique(s)]
    return float(min(rates) / max(rates))


def gap(ds: TabularDataset, column: str) -> float:
    means = ds.frame.groupby("group")[column].mean()
    return float(means["A"] - means["B"])


@pytest.fixture(scope="module")
def real():
    return make_synthetic(2000, bias=0.8, seed=0)


@pytest.fixture(scope="module")
def tabfairgan(real):
    torch.set_num_threads(1)
    # the fast preset with 20 + 5 epochs instead of 30 + 10: 40 % less time, and both checks
    # keep their margin (observed DPR 0.96, proxy gap 0.70; at 30 + 10: 0.89 and 0.60)
    return get("tabfairgan", preset="fast", epochs=20, fair_epochs=5, lambda_f=2.0, device="cpu",
               random_state=0).fit(real)


@pytest.fixture(scope="module")
def decaf(real):
    torch.set_num_threads(1)
    # the fast preset's 30 epochs learn the planted structure for some seeds (and CPUs) only: 45
    # epochs of hidden 32 with tau = 0, tuned on an AVX2 CPU, mislearnt it on an AVX-512 one
    # (ND DPR 0.55, test_score gap -2.27; the kernels' rounding differs). 60 epochs of the
    # preset's hidden 64 learn it for every seed tried (seeds 0-3 on the AVX-512 CPU, 2026-12-06:
    # ND DPR 0.13-0.19, FTU 0.88-0.99, test_score gap 0.78-1.10 in ND and FTU alike, DP 0.96-0.99,
    # DP test_score gap <= 0.05, proxy gap 1.51-2.53; ~6 s)
    return get("decaf", preset="fast", epochs=60, dag=DAG, admissible=["test_score"],
               device="cpu", random_state=0).fit(real)


@pytest.fixture(params=["tabfairgan", "decaf"])
def generator(request) -> FairGenerator:
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------- planted bias
def test_real_data_is_biased(real):
    assert data_dpr(real) < 0.25
    assert gap(real, "proxy") > 1.4


def test_tabfairgan_fairness_phase_reaches_parity_and_keeps_structure(tabfairgan, real):
    syn = tabfairgan.sample(4000, seed=1)
    assert tabfairgan.underprivileged_ == "B"
    assert data_dpr(syn) >= 0.7  # observed 0.96; real data 0.20
    # it learned the joint distribution, not noise: the s -> proxy dependence survives
    assert gap(syn, "proxy") >= 0.5  # observed 0.70; real 1.6


@pytest.mark.slow
def test_tabfairgan_without_fairness_phase_keeps_the_bias(real):
    plain = get("tabfairgan", preset="fast", fair_epochs=0, device="cpu").fit(real)
    assert data_dpr(plain.sample(4000, seed=1)) < 0.4  # observed 0.19


def test_tabfairgan_per_dataset_defaults():
    from fairx.models.generators.tabfairgan import TabFairGAN

    m = TabFairGAN.for_dataset("COMPAS", random_state=3)
    assert (m.epochs, m.fair_epochs, m.lambda_f, m.batch_size) == (70, 30, 2.2, 256)
    assert get("tabfairgan", preset="paper").get_params()["lambda_f"] == 0.5  # Adult setting
    with pytest.raises(ValueError, match="known: adult"):
        TabFairGAN.for_dataset("mnist")


def test_decaf_cut_edges_per_mode(decaf):
    assert decaf.dag_source_ == "given"
    assert decaf.cut_edges_for("none") == []
    assert decaf.cut_edges_for("ftu") == [("group", "hired")]
    assert decaf.cut_edges_for("dp") == [("group", "test_score"), ("group", "hired")]
    assert decaf.cut_edges_for("cf") == [("group", "hired")]  # test_score is admissible


def test_decaf_modes_on_planted_bias(decaf):
    nd = decaf.sample(4000, seed=1)
    ftu = decaf.sample(4000, seed=1, mode="ftu")
    dp = decaf.sample(4000, seed=1, mode="dp")
    # none keeps the planted s -> y dependence (real data DPR 0.20)
    assert data_dpr(nd) < 0.4  # observed 0.13
    # ftu removes the direct edge's effect: parity improves a lot, while the s -> test_score
    # edge (an indirect path) is untouched
    assert data_dpr(ftu) >= data_dpr(nd) + 0.3  # observed 0.88 vs 0.13
    assert gap(ftu, "test_score") >= 0.4 and gap(ftu, "test_score") == pytest.approx(
        gap(nd, "test_score"), abs=0.05)
    # dp also cuts s -> test_score: data-level parity near 1 and no test_score gap
    assert data_dpr(dp) >= 0.85  # observed 0.99
    assert abs(gap(dp, "test_score")) < 0.2
    # edges that are not on a path to y are kept in every mode
    assert gap(dp, "proxy") > 1.0


def test_decaf_variants_fix_the_mode():
    assert get("decaf-dp", preset="fast").mode == "dp"
    assert get("decaf-dp", preset="fast").display_name == "DECAF-DP"
    with pytest.raises(ValueError, match="mode"):
        get("decaf", mode="fair").fit(make_synthetic(200, seed=0))


def test_decaf_learns_a_chow_liu_tree_when_no_dag_is_given(real):
    m = get("decaf", epochs=1, hidden=8, critic_steps=1, batch_size=256, device="cpu").fit(real)
    assert m.dag_source_ == "chow-liu"
    assert len(m.dag_) == real.frame.shape[1] - 1
    assert ("group", "proxy") in m.dag_  # the strongest dependence of s
    assert all(c != "group" for _, c in m.dag_)  # oriented from s outwards


# ---------------------------------------------------------------- the generator contract
def test_schema_is_preserved(generator, real):
    syn = generator.sample(500, seed=3)
    assert list(syn.frame.columns) == list(real.frame.columns)
    assert syn.schema() | {"name": None} == real.schema() | {"name": None}
    for col in real.frame.columns:
        assert syn.frame[col].dtype == real.frame[col].dtype, col
    for col in real.categorical:
        assert set(syn.frame[col]) <= set(real.frame[col]), col
    for col in real.numerical:
        assert syn.frame[col].min() >= real.frame[col].min() - 1e-9
        assert syn.frame[col].max() <= real.frame[col].max() + 1e-9
    assert np.all(syn.frame["years"] == np.round(syn.frame["years"]))


@pytest.mark.parametrize("n", [1, 7, 2501])
def test_n_is_respected(generator, n):
    assert len(generator.sample(n, seed=0)) == n


def test_same_seed_same_rows(generator):
    a, b = generator.sample(300, seed=11), generator.sample(300, seed=11)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not generator.sample(300, seed=12).frame.equals(a.frame)


def test_save_load_gives_identical_samples(generator, tmp_path):
    generator.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json",
                                                                       "weights.safetensors"]
    loaded = load_method(tmp_path / "model")
    assert type(loaded) is type(generator)
    pd.testing.assert_frame_equal(loaded.sample(400, seed=5).frame,
                                  generator.sample(400, seed=5).frame)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n_is_rejected(generator, n):
    with pytest.raises(ValueError, match="positive integer"):
        generator.sample(n, seed=0)


@pytest.mark.parametrize("name", ["tabfairgan", "decaf"])
def test_a_sensitive_group_of_one_row_is_rejected(real, name):
    frame = real.frame.copy()
    frame.loc[0, "group"] = "C"
    with pytest.raises(DatasetError, match=r"group\(s\) \{'C': 1\}"):
        extra = {"fair_epochs": 0} if name == "tabfairgan" else {}
        get(name, epochs=1, **extra).fit(real.replace(frame=frame))


@pytest.mark.parametrize("name", ["tabfairgan", "decaf"])
def test_a_constant_column_is_generated_as_that_constant(name):
    small = make_synthetic(300, seed=2)
    ds = small.replace(frame=small.frame.assign(const=5, tag="x"),
                       numerical=[*small.numerical, "const"], integer=[*small.integer, "const"],
                       categorical=[*small.categorical, "tag"])
    m = get(name, epochs=1, fair_epochs=0, device="cpu") if name == "tabfairgan" else \
        get(name, epochs=1, hidden=8, device="cpu")
    syn = m.fit(ds).sample(50, seed=0)
    assert (syn.frame["const"] == 5).all() and syn.frame["const"].dtype == ds.frame["const"].dtype
    assert (syn.frame["tag"] == "x").all()


def test_tabfairgan_multivalued_sensitive_uses_lowest_rate_group():
    small = make_synthetic(600, bias=0.8, seed=4)
    frame = small.frame.copy()
    # split A into A1 / A2 (same rates) and keep B the lowest-positive-rate group
    frame["group"] = np.where(frame["group"] == "A", np.where(np.arange(len(frame)) % 2, "A1", "A2"),
                              "B")
    ds = small.replace(frame=frame)
    m = get("tabfairgan", epochs=1, fair_epochs=1, device="cpu").fit(ds)
    assert m.underprivileged_ == "B"
    block = m.encoder_.block("group")
    assert m.s_columns_ == [block.start + block.categories.index("B")]
    assert len(m.sample(10, seed=0)) == 10


# ---------------------------------------------------------------- DECAF internals and early stopping
def test_decaf_level_batched_generator_equals_a_per_variable_loop(decaf):
    """The grouped weights compute exactly DECAF's per-variable layers: variable i from its
    masked parents and its own noise through Linear(d + 1, h), the shared layers and its own
    output columns, one variable at a time in topological order."""
    gen, blocks = decaf.generator_, decaf.encoder_.blocks_
    z = torch.randn(64, len(blocks), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fast = gen(z, decaf._levels)
        x = torch.zeros(64, decaf.encoder_.dim_)
        for i in [i for level in decaf._levels for i in level]:
            b = blocks[i]
            inp = torch.cat([x * gen.masks[i], z[:, i:i + 1]], dim=1)
            h = gen.shared(torch.relu(inp @ gen.in_weight[i] + gen.in_bias[i]))
            raw = h @ gen.out_weight[:, b.start:b.stop] + gen.out_bias[b.start:b.stop]
            x[:, b.start:b.stop] = torch.softmax(raw, 1) if b.kind == "categorical" \
                else torch.sigmoid(raw)
    torch.testing.assert_close(fast, x)
    assert [sorted(lv) for lv in decaf._levels][0] == [0, 1]  # group and skill are roots


def test_decaf_trains_on_gumbel_draws_and_generates_from_the_softmax(decaf):
    """In training mode (tau > 0) every categorical block is a Gumbel-softmax draw: rows near
    one-hot, different on each call; in eval mode the same noise gives the same softmax rows."""
    from fairx.models.generators.decaf import _build_networks
    from fairx.nn import seeded

    blocks = decaf.encoder_.blocks_
    with seeded(0):
        gen, _ = _build_networks(decaf.encoder_.dim_, 16, blocks, decaf.masks_, tau=0.2)
    z = torch.randn(500, len(blocks), generator=torch.Generator().manual_seed(0))
    cat = [b for b in blocks if b.kind == "categorical"]
    with torch.no_grad():
        gen.train()
        a, b = gen(z, decaf._levels), gen(z, decaf._levels)
        gen.eval()
        c, d = gen(z, decaf._levels), gen(z, decaf._levels)
    for blk in cat:
        rows = a[:, blk.start:blk.stop]
        assert torch.allclose(rows.sum(1), torch.ones(500), atol=1e-5)
        # near one-hot (observed 0.90–0.94 over init seeds 0–4); the softmax of a fresh net is
        # near uniform (observed 0.35–0.60)
        assert rows.max(1).values.mean() > 0.85
        assert c[:, blk.start:blk.stop].max(1).values.mean() < 0.7
    assert not torch.equal(a, b) and torch.equal(c, d)
    with pytest.raises(ValueError, match="tau=-1"):
        get("decaf", tau=-1, epochs=1).fit(make_synthetic(50, seed=0))


def test_decaf_dp_parity_comes_from_the_cut(decaf, monkeypatch):
    """Switch the cut off (no column is permuted) and DECAF-DP is as biased as DECAF-ND."""
    monkeypatch.setattr(type(decaf), "_cut_columns", lambda self, edges: {})
    assert data_dpr(decaf.sample(4000, seed=1, mode="dp")) < 0.4


def test_mmd_checkpoint_keeps_the_best_state():
    from fairx.nn._gan import MMDCheckpoint, holdout_rows

    val = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    net = torch.nn.Linear(3, 3)
    monitor = MMDCheckpoint(val, patience=2)
    stops = []
    for epoch, shift in enumerate([3.0, 0.0, 1.0, 2.0]):  # best at epoch 1, stop 2 checks later
        with torch.no_grad():
            net.bias.fill_(shift)
        stops.append(monitor.check(net, val + shift, epoch)[0])
    assert stops == [False, False, False, True]
    assert monitor.best_epoch == 1 and monitor.best_score == pytest.approx(0.0, abs=1e-6)
    monitor.restore(net)
    assert torch.all(net.bias == 0.0)
    with pytest.raises(ValueError, match="val_fraction=0.001 of 100 rows"):
        holdout_rows(100, 0.001)


def test_gan_early_stopping_restores_the_best_epoch_and_keeps_the_fair_phase(real):
    m = get("tabfairgan", epochs=12, fair_epochs=2, patience=1, eval_every=1, batch_size=256,
            device="cpu").fit(real)
    plain = [r for r in m.history_ if not r["fair"]]
    assert len([r for r in m.history_ if r["fair"]]) == 2  # the fairness phase always runs
    scores = [r["mmd2"] for r in plain]
    assert m.best_epoch_ == int(np.argmin(scores))
    d = get("decaf", epochs=6, hidden=8, critic_steps=1, batch_size=256, patience=1,
            device="cpu").fit(real)
    scores = [r["mmd2"] for r in d.history_]
    assert d.best_epoch_ == int(np.argmin(scores)) and len(scores) <= 6
