"""The full-size Python walk-through (was the README's Python section): all 45,222 Adult rows,
`default` presets. It takes tens of minutes on 2 CPU cores (31 min measured for the earlier
README version); the one-minute version is examples/quickstart.py.

    python benchmarks/python_full_run.py
"""

import fairx
from fairx.data import load_dataset, train_test_split
from fairx.models import Fair4Free, FairVAE
from fairx.protocol import evaluate_method


def main() -> None:
    ds = load_dataset("adult", sensitive="sex")  # or load_csv("my.csv", target="y", sensitive=["g"])
    train, test = train_test_split(ds, seed=0)  # stratified by target and sensitive groups

    r = evaluate_method("fair4free", ds, seed=0, preset="fast")  # one protocol for every method
    print(r.metrics["auroc"], r.metrics["dpr"], r.metrics["coverage"])

    teacher = FairVAE().fit(train)  # the data owner
    teacher.save("teacher/")
    student = Fair4Free.distill(FairVAE.load("teacher/"), random_state=0)  # no data argument
    synthetic = student.sample(10_000, seed=0)  # a TabularDataset, original schema

    scores = fairx.evaluate(train, synthetic.frame, test=test)  # tidy: group, metric, value
    print(scores)
    expl = fairx.explain(ds, "fair4free", preset="fast")  # SHAP real vs synthetic
    print("\n".join(expl.summary_lines()))


if __name__ == "__main__":
    main()
