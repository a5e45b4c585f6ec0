"""The README's one-minute Python example: 3,000 rows of the built-in planted-bias table, `fast`
presets.

    python examples/quickstart.py

The full-size version (all 45,222 Adult rows, `default` presets; tens of minutes on 2 cores) is
benchmarks/python_full_run.py.
"""

import fairx
from fairx.data import load_dataset, train_test_split
from fairx.metrics import data_parity
from fairx.models import Fair4Free, FairVAE, get
from fairx.protocol import evaluate_method

# the planted-bias table (no files; P(yes | A) = 0.61, P(yes | B) = 0.12), 3,000 rows; for real
# data: load_dataset("adult", sensitive="sex") or load_csv("my.csv", target="y", sensitive=["g"])
ds = load_dataset("synthetic", n_samples=3000, bias=0.8, seed=0)
train, test = train_test_split(ds, seed=0)  # stratified by target and sensitive groups

r = evaluate_method("reweighing", ds, seed=0)  # one protocol for every kind of method
print(f"reweighing: auroc {r.metrics['auroc']:.3f}, dpr {r.metrics['dpr']:.3f}")

teacher = get("fairdisco", preset="fast", random_state=0).fit(train)  # the data owner
teacher.save("teacher/")
student = Fair4Free.distill(FairVAE.load("teacher/"), preset="fast", random_state=0)  # no data
synthetic = student.sample(len(train), seed=0)  # a TabularDataset with the original schema

scores = fairx.evaluate(train, synthetic.frame, test=test, max_rows=1000)  # group, metric, value
print(scores[scores["metric"].isin(["auroc", "dpr", "eor", "data_dpr", "coverage"])])
print(f"label parity of the real train split: data_dpr {data_parity(train)['data_dpr']:.3f}")
