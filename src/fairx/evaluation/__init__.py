"""Evaluation: the one protocol every method is judged by (:mod:`.protocol`), the image
protocol (:mod:`.images`) and explanations (:mod:`.explain`; the function is ``fairx.explain``).

Layer: above ``models`` and ``metrics``, below ``benchmark``, ``report`` and ``cli``.
"""

from .explain import ExplainResult, explain_frames, shap_available
from .protocol import MethodResult, evaluate_method, mean_std_table, summarize

# ``explain`` (the function) is not re-exported here: the submodule of the same name would
# shadow it as soon as it is imported; use ``fairx.explain``.
__all__ = ["ExplainResult", "MethodResult", "evaluate_method", "explain_frames", "mean_std_table",
           "shap_available", "summarize"]
