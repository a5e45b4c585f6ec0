#!/usr/bin/env bash
# Build a separate venv with synthcity 0.2.12 for the side-by-side metric timing of
# benchmarks/bench_metrics.py (--synthcity VENV/bin/python). Never a fairx dependency.
#
#   bash benchmarks/synthcity/make_venv.sh /tmp/synthcity-venv
#
# Why each step: synthcity 0.2.12 pins torch < 2.3 and numpy < 2, and a plain
# `pip install synthcity` silently falls back to 0.2.4, which does not import on current SciPy.
# So synthcity goes in with --no-deps, on the CPU torch 2.13 build, with numpy < 2 and the
# packages its metric modules import. torchvision: synthcity imports it unconditionally, and the
# only wheels reachable are CUDA builds whose compiled ops fail to register against CPU torch
# ("operator torchvision::nms does not exist"); the tabular metrics never use those ops, so
# torchvision 0.28 goes in without its dependencies and a start-up hook defines the two op
# schemas it registers fake kernels for (an empty stub package fails: synthcity imports
# torchvision.transforms).
set -euo pipefail
VENV=${1:?usage: make_venv.sh VENV_DIR}
PY=${PYTHON:-python3.11}
"$PY" -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q -U pip
CONSTRAINTS=$(mktemp)
printf 'torch==2.13.0\nnumpy<2\npyarrow<21\nfastcore<1.8\nfastprogress<1.1\n' > "$CONSTRAINTS"
python -m pip install -q torch==2.13.0 -c "$CONSTRAINTS"
python -m pip install -q --no-deps synthcity==0.2.12
python -m pip install -q importlib-metadata "pandas>=2.1" scikit-learn nflows "numpy<2" \
  "lifelines>=0.29,<0.30" "opacus>=1.3,<1.5.4" "networkx>2,<3" decaf-synthetic-data optuna shap \
  tenacity tqdm loguru "pydantic>=2" cloudpickle scipy "xgboost<3" geomloss "pgmpy<1.0" redis \
  pycox "xgbse>=0.3.1" pykeops fflows monai "be-great>=0.0.5" arfpy "fastcore<1.8" ipython \
  "pyarrow<21" prdc fastprogress fastdownload -c "$CONSTRAINTS"
python -m pip install -q --no-deps tsai==0.3.9 fastai==2.7.19
SITE=$(python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
if ! python -c "import torchvision" 2>/dev/null; then
  python -m pip install -q --no-deps torchvision==0.28.0
  # torchvision's Python code registers fake kernels for its compiled ops; with the CUDA wheel's
  # ops missing on CPU torch that fails, so the two op schemas are defined first, at start-up
  cat > "$SITE/_torchvision_ops_shim.py" <<'PY'
"""Define torchvision::nms / qnms before torchvision registers fake kernels for them."""
try:
    import torch

    for name, schema in (
            ("nms", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"),
            ("qnms", "(Tensor dets, Tensor scores, float iou_threshold, float scale, "
                     "int zero_point) -> Tensor")):
        try:
            torch.library.define("torchvision::" + name, schema)
        except RuntimeError:  # already defined
            pass
except ImportError:
    pass
PY
  echo "import _torchvision_ops_shim" > "$SITE/_torchvision_ops_shim.pth"
fi
python -c "from synthcity.metrics.eval_statistical import AlphaPrecision, PRDCScore; print('synthcity ready:', '$VENV/bin/python')"
rm -f "$CONSTRAINTS"
