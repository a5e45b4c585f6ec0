"""Registry entries of the baseline methods (methods.md §5). No heavy imports here."""

from ..registry import register

_M = "fairx.models."

register("unmitigated", _M + "baselines.unmitigated:Unmitigated", stage="reference",
         description="Reference: the downstream classifier trained on the real train split.")
register("correlation_remover", _M + "baselines.correlation_remover:CorrelationRemover", stage="pre",
         description="fairlearn CorrelationRemover: removes linear correlation of features with s.")
register("reweighing", _M + "baselines.reweighing:Reweighing", stage="pre",
         description="Kamiran & Calders: sample weights w(s,y) = P(s)P(y)/P(s,y).")
register("exponentiated_gradient", _M + "baselines.exponentiated_gradient:ExponentiatedGradient", stage="in",
         description="fairlearn ExponentiatedGradient reduction (demographic_parity | equalized_odds).")
register("threshold_optimizer", _M + "baselines.threshold_optimizer:ThresholdOptimizer", stage="post",
         description="fairlearn ThresholdOptimizer: group thresholds, seeded randomised predictions.")
register("tabfairgan", _M + "generators.tabfairgan:TabFairGAN", stage="generator",
         description="TabFairGAN: WGAN-GP then a demographic-parity fairness phase.")
register("decaf", _M + "generators.decaf:DECAF", stage="generator",
         description="DECAF: causal WGAN-GP over a DAG, debiased at generation (mode none|ftu|dp|cf).")
register("decaf-ftu", _M + "generators.decaf:DECAF", stage="generator", mode="ftu",
         description="DECAF-FTU: DECAF with the direct edge s -> y cut at generation.")
register("decaf-dp", _M + "generators.decaf:DECAF", stage="generator", mode="dp",
         description="DECAF-DP: DECAF with every edge out of s on a path to y cut.")
register("decaf-cf", _M + "generators.decaf:DECAF", stage="generator", mode="cf",
         description="DECAF-CF: as DECAF-DP but keeps paths through admissible variables.")
