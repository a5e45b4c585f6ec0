"""The benchmark spec: a YAML file <-> typed, validated dataclasses.

Validation errors name the offending key by its path (``methods[2].preset``) and, when the spec
came from a file, its line number (taken from ``yaml.compose`` node marks).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import inspect
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..data import DatasetError, _files, dataset_info, load_dataset, load_file
from ..models.presets import UnknownPresetError, preset_params
from ..models.registry import entry, method_class, parameter_names
from ._metric_names import known_metrics

FILE_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".pq")
SEED_MAX = 2**32 - 1  # numpy / scikit-learn seeds: 0 .. 2**32 - 1
STAGE_ORDER = {"reference": 0, "pre": 1, "in": 2, "post": 3, "generator": 4}
METRIC_GROUPS = ("utility", "fairness", "fairness_all", "data", "quality", "explain", "cost")
CLASSIFIERS = ("hgb", "logreg", "rf", "xgboost")


class SpecError(ValueError):
    """A benchmark spec that does not validate; ``key`` is the dotted path, ``line`` 1-based."""

    def __init__(self, message: str, *, key: str = "", line: int | None = None,
                 source: str | None = None) -> None:
        where = ""
        if source:
            where += str(source)
        if line is not None:
            where += f"{':' if where else 'line '}{line}"
        prefix = f"{where}: " if where else ""
        keytxt = f"{key}: " if key else ""
        super().__init__(f"{prefix}{keytxt}{message}")
        self.key = key
        self.line = line


@dataclass
class DatasetSpec:
    """A built-in dataset (``name`` + ``options``) or a file (``path`` + ``target``)."""

    name: str
    sensitive: list[list[str]] = field(default_factory=list)  # each item: one attribute set
    path: str | None = None
    target: str | None = None
    positive_label: Any = None
    categorical: list[str] | None = None
    numerical: list[str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    max_rows: int | None = None

    def load(self, sensitive: list[str]):
        """The dataset with the given sensitive attribute set (a ``TabularDataset``)."""

        if self.path is None:
            ds = load_dataset(self.name, sensitive=sensitive, target=self.target, **self.options)
        else:  # the same reader as `fairx evaluate` / `fairx generate` (separator sniffed, "?")
            p = Path(self.path)
            if p.suffix.lower() not in FILE_SUFFIXES:
                raise DatasetError(f"dataset {self.name!r}: file {str(p)!r} is neither CSV nor Parquet")
            ds = load_file(p, target=self.target, sensitive=sensitive,
                           positive_label=self.positive_label, categorical=self.categorical,
                           numerical=self.numerical, name=self.name, **self.options)
        if ds.name != self.name:
            ds = ds.replace(name=self.name)
        if self.max_rows is not None and len(ds) > self.max_rows:

            rows = np.sort(np.random.default_rng(0).choice(len(ds), self.max_rows, replace=False))
            ds = ds.subset(rows)
        return ds


@dataclass
class MethodSpec:
    """A registry method with a preset and explicit parameters; ``label`` names its table row."""

    name: str
    preset: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass
class ProtocolSpec:
    test_size: float = 0.3
    use_sensitive: bool = False
    n_synthetic: int | None = None
    quality: bool = True
    explain: bool = False
    sample_rows: int = 300  # real/synthetic rows stored per generator cell for PCA/t-SNE
    min_group_size: int = 30  # intersection groups with fewer test rows leave the headline


@dataclass
class BenchmarkSpec:
    datasets: list[DatasetSpec]
    methods: list[MethodSpec]
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    classifier: str = "hgb"
    protocol: ProtocolSpec = field(default_factory=ProtocolSpec)
    metrics: list[str] = field(default_factory=lambda: ["utility", "fairness"])
    name: str = "benchmark"
    n_jobs: int = 1
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("source")
        return d

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def hash(self) -> str:
        return config_hash(self.to_dict())


def config_hash(obj: Any) -> str:
    """A stable short hash of a JSON-serialisable object."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------- parsing
def _marks(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map every key path to the 1-based line where its key (or item) starts."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            out[path + (key,)] = k.start_mark.line + 1
            _marks(v, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out[path + (i,)] = v.start_mark.line + 1
            _marks(v, path + (i,), out)
    return out


class _Ctx:
    def __init__(self, marks: dict[tuple, int], source: str | None) -> None:
        self.marks, self.source = marks, source

    def error(self, path: tuple, message: str) -> SpecError:
        key = ""
        for p in path:
            key += f"[{p}]" if isinstance(p, int) else (f".{p}" if key else str(p))
        line = None
        for n in range(len(path), -1, -1):
            if path[:n] in self.marks:
                line = self.marks[path[:n]]
                break
        return SpecError(message, key=key, line=line, source=self.source)

    def mapping(self, value: Any, path: tuple, allowed: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {type(value).__name__}")
        for k in value:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), list(allowed), n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error(path + (k,), f"unknown key {k!r}{hint}; allowed: {', '.join(allowed)}")
        return value

    def typed(self, value: Any, path: tuple, kind: type | tuple, what: str) -> Any:
        if isinstance(value, bool) and kind in (int, float, (int, float)):
            raise self.error(path, f"expected {what}, got {value!r}")
        if not isinstance(value, kind):
            raise self.error(path, f"expected {what}, got {value!r} ({type(value).__name__})")
        return value

    def str_list(self, value: Any, path: tuple) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not value:
            raise self.error(path, f"expected a column name or a non-empty list of names, got {value!r}")
        for i, v in enumerate(value):
            self.typed(v, path + (i,), str, "a column name")
        return list(value)


_TOP = {"name": None, "datasets": None, "methods": None, "seeds": None, "classifier": None,
        "protocol": None, "metrics": None, "n_jobs": None}
_DATASET = {"name": None, "sensitive": None, "path": None, "target": None, "positive_label": None,
            "categorical": None, "numerical": None, "options": None, "max_rows": None}
_METHOD = {"name": None, "preset": None, "params": None, "label": None}
_PROTOCOL = {"test_size": None, "use_sensitive": None, "n_synthetic": None, "quality": None,
             "explain": None, "sample_rows": None, "min_group_size": None}


def _parse_dataset(ctx: _Ctx, raw: Any, path: tuple) -> DatasetSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    d = ctx.mapping(raw, path, _DATASET)
    if "name" not in d:
        raise ctx.error(path, "a dataset needs 'name'")
    name = str(ctx.typed(d["name"], path + ("name",), (str, int), "a dataset name"))
    file = d.get("path")
    if file is not None:
        ctx.typed(file, path + ("path",), str, "a file path")
        if "target" not in d:
            raise ctx.error(path + ("path",), f"dataset {name!r} is a file: it needs 'target'")
    else:
        try:
            dataset_info(name)
        except ValueError as exc:
            raise ctx.error(path + ("name",), str(exc)) from None
    target = d.get("target")
    if target is not None:
        ctx.typed(target, path + ("target",), str, "a column name")
    sens_raw = d.get("sensitive")
    sensitive: list[list[str]] = []
    if sens_raw is None:
        if file is not None:
            raise ctx.error(path, f"dataset {name!r} is a file: it needs 'sensitive'")
        sensitive = [list(dataset_info(name).default_sensitive)]
    elif isinstance(sens_raw, str):
        sensitive = [[sens_raw]]
    elif isinstance(sens_raw, list) and sens_raw:
        for i, item in enumerate(sens_raw):
            sensitive.append(ctx.str_list(item, path + ("sensitive", i)))
    else:
        raise ctx.error(path + ("sensitive",),
                        "expected a column name or a list of attribute sets, e.g. [sex, [sex, race]]")
    if file is None:
        info = dataset_info(name)
        for i, group in enumerate(sensitive):
            bad = [s for s in group if s not in info.sensitive]
            if bad:
                raise ctx.error(path + ("sensitive", i) if isinstance(sens_raw, list) else
                                path + ("sensitive",),
                                f"dataset {name!r} has no sensitive attribute {bad}; "
                                f"available: {list(info.sensitive)}")
    options = d.get("options") or {}
    if not isinstance(options, dict):
        raise ctx.error(path + ("options",), "expected a mapping of loader options")
    if file is not None:
        _check_file(ctx, file, name, path)
    _check_options(ctx, options, name, file, path + ("options",))
    cats = d.get("categorical")
    nums = d.get("numerical")
    max_rows = d.get("max_rows")
    if max_rows is not None and (ctx.typed(max_rows, path + ("max_rows",), int, "an integer") < 10):
        raise ctx.error(path + ("max_rows",), f"max_rows={max_rows}; need at least 10")
    return DatasetSpec(
        name=name, sensitive=sensitive, path=file, target=target,
        positive_label=d.get("positive_label"),
        categorical=None if cats is None else ctx.str_list(cats, path + ("categorical",)),
        numerical=None if nums is None else ctx.str_list(nums, path + ("numerical",)),
        options=dict(options), max_rows=max_rows)


def _check_file(ctx: _Ctx, file: str, name: str, path: tuple) -> None:
    """A dataset file must exist and be CSV or Parquet (checked now, not cell by cell)."""
    p = Path(file).expanduser()
    if p.suffix.lower() not in FILE_SUFFIXES:
        raise ctx.error(path + ("path",), f"dataset {name!r}: {file!r} is neither CSV "
                        f"({', '.join(FILE_SUFFIXES[:3])}) nor Parquet (.parquet, .pq)")
    if not p.exists():
        raise ctx.error(path + ("path",), f"dataset {name!r}: file {file!r} not found "
                        f"(relative paths start from {str(Path.cwd())!r})")
    if not p.is_file():
        raise ctx.error(path + ("path",), f"dataset {name!r}: {file!r} is not a file")


def _check_options(ctx: _Ctx, options: dict[str, Any], name: str, file: str | None,
                   path: tuple) -> None:
    """Loader options must be parameters the loader (built-in) or the file reader accepts."""

    fixed = {"sensitive", "target", "positive_label", "categorical", "numerical", "name", "path"}
    if file is not None:

        reader = (_files.load_parquet if Path(file).suffix.lower() in (".parquet", ".pq")
                  else _files.load_csv)
    else:
        module, func = dataset_info(name).loader.split(":")
        reader = getattr(importlib.import_module(module), func)
    params = inspect.signature(reader).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    allowed = [k for k, p in params.items() if k not in fixed
               and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for k in options:
        if k in fixed or k not in allowed:
            close = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            what = "the file reader" if file is not None else f"dataset {name!r}"
            raise ctx.error(path + (k,), f"{what} has no option {k!r}{hint}; options: "
                            f"{', '.join(allowed) or 'none'}")


def _parse_method(ctx: _Ctx, raw: Any, path: tuple, validate_registry: bool) -> MethodSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    d = ctx.mapping(raw, path, _METHOD)
    if "name" not in d:
        raise ctx.error(path, "a method needs 'name' (see `fairx models`)")
    name = ctx.typed(d["name"], path + ("name",), str, "a method name")
    preset = d.get("preset")
    if preset is not None:
        ctx.typed(preset, path + ("preset",), str, "a preset name (fast, default, paper)")
    params = d.get("params") or {}
    if not isinstance(params, dict):
        raise ctx.error(path + ("params",), "expected a mapping of parameters")
    label = d.get("label")
    if label is not None:
        label = str(label)
    if validate_registry:

        try:
            entry(name)
        except KeyError as exc:
            raise ctx.error(path + ("name",), exc.args[0]) from None
        try:
            cls = method_class(name)
        except ImportError:
            cls = None  # the method's module is not importable here; checked when it runs
        if cls is not None:
            try:
                preset_params(cls, preset, what=f"method {name!r}")
            except UnknownPresetError as exc:
                raise ctx.error(path + ("preset",), str(exc)) from None
            valid = parameter_names(cls)
            for k in params:
                if k not in valid:
                    raise ctx.error(path + ("params", k), f"method {name!r} has no parameter "
                                    f"{k!r}; parameters: {sorted(valid)}")
    return MethodSpec(name=name, preset=preset, params=dict(params), label=label)


def parse_spec(data: Any, *, marks: dict[tuple, int] | None = None, source: str | None = None,
               validate_registry: bool = True) -> BenchmarkSpec:
    """Validate a plain dict (as loaded from YAML) into a :class:`BenchmarkSpec`."""
    ctx = _Ctx(marks or {}, source)
    if data is None:
        raise ctx.error((), "the spec is empty; run `fairx benchmark --init` for an example")
    top = ctx.mapping(data, (), _TOP)
    for required in ("datasets", "methods"):
        if required not in top:
            raise ctx.error((), f"missing required key {required!r}")
    if not isinstance(top["datasets"], list) or not top["datasets"]:
        raise ctx.error(("datasets",), "expected a non-empty list of datasets")
    if not isinstance(top["methods"], list) or not top["methods"]:
        raise ctx.error(("methods",), "expected a non-empty list of methods")
    datasets = [_parse_dataset(ctx, d, ("datasets", i)) for i, d in enumerate(top["datasets"])]
    names = [d.name for d in datasets]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise ctx.error(("datasets", i, "name"), f"dataset name {n!r} appears twice")
    methods = [_parse_method(ctx, m, ("methods", i), validate_registry)
               for i, m in enumerate(top["methods"])]
    labels = [m.display for m in methods]
    for i, lab in enumerate(labels):
        if labels.index(lab) != i:
            raise ctx.error(("methods", i), f"two methods are shown as {lab!r}; give one a 'label'")
    seeds_raw = top.get("seeds", [0, 1, 2])
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool):
        if seeds_raw < 1:
            raise ctx.error(("seeds",), f"seeds={seeds_raw}; give a positive count or a list")
        seeds = list(range(seeds_raw))
    elif isinstance(seeds_raw, list) and seeds_raw:
        seeds = [ctx.typed(s, ("seeds", i), int, "an integer seed") for i, s in enumerate(seeds_raw)]
        for i, s in enumerate(seeds):
            if not 0 <= s <= SEED_MAX:
                raise ctx.error(("seeds", i), f"seed {s} is out of range; seeds are integers "
                                f"from 0 to {SEED_MAX}")
        if len(set(seeds)) != len(seeds):
            raise ctx.error(("seeds",), f"duplicate seeds in {seeds}")
    else:
        raise ctx.error(("seeds",), f"expected a count or a list of integers, got {seeds_raw!r}")
    classifier = top.get("classifier", "hgb")
    if classifier not in CLASSIFIERS:
        raise ctx.error(("classifier",), f"classifier {classifier!r}; allowed: {', '.join(CLASSIFIERS)}")
    prot_raw = ctx.mapping(top.get("protocol") or {}, ("protocol",), _PROTOCOL)
    protocol = ProtocolSpec()
    for key, kind, what in (("test_size", (int, float), "a number in (0, 1)"),
                            ("use_sensitive", bool, "true or false"),
                            ("quality", bool, "true or false"),
                            ("explain", bool, "true or false"),
                            ("sample_rows", int, "an integer"),
                            ("min_group_size", int, "a positive integer"),
                            ("n_synthetic", int, "an integer or null")):
        if key in prot_raw and prot_raw[key] is not None:
            setattr(protocol, key, ctx.typed(prot_raw[key], ("protocol", key), kind, what))
    if protocol.n_synthetic is not None and protocol.n_synthetic < 1:
        raise ctx.error(("protocol", "n_synthetic"), f"n_synthetic={protocol.n_synthetic}; give a "
                        "positive number of rows (or null for the size of the train split)")
    if not 0 < protocol.test_size < 1:
        raise ctx.error(("protocol", "test_size"), f"test_size={protocol.test_size}; must lie in (0, 1)")
    if protocol.min_group_size < 1:
        raise ctx.error(("protocol", "min_group_size"),
                        f"min_group_size={protocol.min_group_size}; must be at least 1")
    if protocol.sample_rows < 0:
        raise ctx.error(("protocol", "sample_rows"), "sample_rows must be >= 0")
    metrics_raw = top.get("metrics", ["utility", "fairness"])
    metrics = ctx.str_list(metrics_raw, ("metrics",))

    known = set(known_metrics())
    for i, m in enumerate(metrics):
        if m not in METRIC_GROUPS and m not in known:
            close = difflib.get_close_matches(m, list(METRIC_GROUPS) + sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ctx.error(("metrics", i) if isinstance(metrics_raw, list) else ("metrics",),
                            f"unknown metric or group {m!r}{hint}; groups: {', '.join(METRIC_GROUPS)}")
    n_jobs = top.get("n_jobs", 1)
    ctx.typed(n_jobs, ("n_jobs",), int, "an integer")
    name = str(top.get("name", "benchmark"))
    return BenchmarkSpec(datasets=datasets, methods=methods, seeds=seeds, classifier=classifier,
                         protocol=protocol, metrics=metrics, name=name, n_jobs=n_jobs,
                         source=source)


def load_spec(path: str | Path, *, validate_registry: bool = True) -> BenchmarkSpec:
    """Read and validate a YAML spec file."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"spec file {str(p)!r} not found; `fairx benchmark --init {p}` writes one")
    return loads_spec(p.read_text(encoding="utf-8"), source=str(p), validate_registry=validate_registry)


def loads_spec(text: str, *, source: str | None = None, validate_registry: bool = True) -> BenchmarkSpec:
    """Validate a YAML spec given as text."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                        line=None if mark is None else mark.line + 1, source=source) from None
    marks = _marks(node) if node is not None else {}
    return parse_spec(data, marks=marks, source=source, validate_registry=validate_registry)


EXAMPLE_SPEC = """\
# fairx benchmark spec. Run it with:  fairx benchmark THIS_FILE.yaml --db results.db --n-jobs 2
# Every (dataset x sensitive set x method x seed) is one cell; finished cells are stored in the
# database and skipped when you rerun the same spec (use --force to rerun them).
name: adult-fast

datasets:
  # a built-in dataset (`fairx datasets`); `sensitive` lists attribute SETS: each item is
  # one benchmark (a list of two columns means their intersection, e.g. [sex, race]).
  - name: adult
    sensitive: [sex, race, [sex, race]]
    # max_rows: 10000          # optional seeded subsample (same rows for every seed)
  # the built-in planted-bias table needs no files; loader options go under `options`
  - name: synthetic
    sensitive: [group]
    options: {n_samples: 3000, bias: 0.8}
  # your own table (CSV or Parquet): give target and sensitive (and optionally the schema)
  # - name: my_table
  #   path: data/my_table.csv
  #   target: hired
  #   positive_label: "yes"
  #   sensitive: [gender]
  #   categorical: [region]

methods:                       # registry names (`fairx models`), presets, parameters
  - name: unmitigated
  - name: reweighing
  - name: exponentiated_gradient
    preset: fast
  - name: threshold_optimizer
  - name: tabfairgan
    preset: fast
  # - name: fair4free
  #   preset: fast
  #   params: {epochs: 20}
  #   label: Fair4Free-20ep     # the row name in tables (needed when a name appears twice)

seeds: [0, 1, 2]               # or a count: seeds: 3
classifier: hgb                # downstream classifier: hgb, logreg, rf (xgboost if installed)

protocol:
  test_size: 0.3
  use_sensitive: false         # does the downstream classifier see the sensitive columns?
  n_synthetic: null            # rows generated per generator (null = size of the train split)
  quality: true                # synthetic-quality metrics for generators
  explain: false               # SHAP importances (real vs synthetic) for generator cells
  sample_rows: 300             # real/synthetic rows kept per generator cell for PCA/t-SNE plots

# metric groups (utility, fairness, fairness_all, data, quality, explain, cost) or metric names
# shown in the printed table; every metric is stored either way.
metrics: [utility, fairness]
"""
