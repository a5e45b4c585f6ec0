"""The README's one-minute Python example: a 3,000-row seeded subsample of Adult, `fast` presets.

    python examples/quickstart.py

The full-size version (all 45,222 rows, `default` presets; tens of minutes on 2 cores) is
benchmarks/python_full_run.py.
"""

import numpy as np

import fairx
from fairx.data import load_dataset, train_test_split
from fairx.models import Fair4Free, FairVAE, get
from fairx.protocol import evaluate_method

ds = load_dataset("adult", sensitive="sex")  # or load_csv("my.csv", target="y", sensitive=["g"])
ds = ds.subset(np.sort(np.random.default_rng(0).choice(len(ds), 3000, replace=False)))
train, test = train_test_split(ds, seed=0)  # stratified by target and sensitive groups

r = evaluate_method("reweighing", ds, seed=0)  # one protocol for every kind of method
print(f"reweighing: auroc {r.metrics['auroc']:.3f}, dpr {r.metrics['dpr']:.3f}")

teacher = get("fairdisco", preset="fast", random_state=0).fit(train)  # the data owner
teacher.save("teacher/")
student = Fair4Free.distill(FairVAE.load("teacher/"), preset="fast", random_state=0)  # no data
synthetic = student.sample(len(train), seed=0)  # a TabularDataset with the original schema

scores = fairx.evaluate(train, synthetic.frame, test=test, max_rows=1000)  # group, metric, value
print(scores[scores["metric"].isin(["auroc", "dpr", "eor", "data_dpr", "coverage"])])
